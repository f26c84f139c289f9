//! What the shell and `man` read, generated from the same clap definition as `--help`:
//! completion scripts (clap_complete) and manual pages (clap_mangen).

use clap::CommandFactory as _;

use super::args::{Cli, ManCmd};
use crate::commands::Output;
use crate::error::Error;

/// `bacaudit completions SHELL`: the completion script, from the same definition as `--help`.
pub(super) fn completions(shell: clap_complete::Shell) -> Output {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "bacaudit", &mut script);
    Output {
        exit_code: crate::vocab::exit::OK,
        stdout: String::from_utf8_lossy(&script).into_owned(),
    }
}

/// `bacaudit man`: a manual page in roff, or with `--dir` every page written as a file.
pub(super) fn man(m: ManCmd) -> Result<Output, Error> {
    let pages = man_pages()?;
    let text = |page: &(String, Vec<u8>)| String::from_utf8_lossy(&page.1).into_owned();
    let stdout = match (&m.dir, &m.subcommand) {
        (Some(dir), _) => {
            let mut names = Vec::new();
            for (name, page) in &pages {
                let path = dir.join(format!("{name}.1"));
                crate::report::write_atomic(&path, page)?;
                names.push(format!("{}\n", path.display()));
            }
            names.concat()
        }
        (None, None) => text(&pages[0]),
        (None, Some(sub)) => {
            let name = format!("bacaudit-{sub}");
            let page = pages.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                Error::Usage(format!(
                    "man {sub}: no such subcommand (see bacaudit --help)"
                ))
            })?;
            text(page)
        }
    };
    Ok(Output {
        exit_code: crate::vocab::exit::OK,
        stdout,
    })
}

/// bacaudit(1), then bacaudit-SUBCOMMAND(1) for every subcommand, with their names.
fn man_pages() -> Result<Vec<(String, Vec<u8>)>, Error> {
    let cmd = Cli::command();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let mut pages = vec![("bacaudit".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("bacaudit-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).version(version.clone());
        pages.push((name, sub));
    }
    pages
        .into_iter()
        .map(|(name, cmd)| {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| Error::Usage(format!("cannot render {name}(1): {e}")))?;
            Ok((name, page))
        })
        .collect()
}
