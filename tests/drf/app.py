"""The real Django REST framework service of the apply tests (tests/apply_real.rs).

Usage: python app.py WORLD.json DB.sqlite3 — one ModelViewSet per collection of the world
(customers, orders, payments, products) on a SQLite file, served on an ephemeral loopback port
by wsgiref (threaded). Prints `{"port": N}` once listening; exits when stdin closes.

References between records are plain integer fields (`customer_id`), as they are between
microservices: nothing in the database stops a restore from leaving them broken. Records are
created with the id the client gives (`id` is writable), so a lost record can be put back
under its old URL by a POST to its collection.
"""

import json
import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="bacaudit-test-only",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[2]}},
    MIDDLEWARE=[],
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.db import connection, models  # noqa: E402
from rest_framework import routers, serializers, viewsets  # noqa: E402


class Customer(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100, blank=True, default="")
    placeholder = models.BooleanField(default=False)

    class Meta:
        app_label = "shop"


class Product(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100, blank=True, default="")
    placeholder = models.BooleanField(default=False)

    class Meta:
        app_label = "shop"


class Order(models.Model):
    id = models.IntegerField(primary_key=True)
    customer_id = models.IntegerField(null=True, blank=True)
    product_id = models.IntegerField(null=True, blank=True)
    total = models.FloatField(default=0)

    class Meta:
        app_label = "shop"


class Payment(models.Model):
    id = models.IntegerField(primary_key=True)
    order_id = models.IntegerField(null=True, blank=True)
    amount = models.FloatField(default=0)

    class Meta:
        app_label = "shop"


MODELS = {"customers": Customer, "products": Product, "orders": Order, "payments": Payment}

router = routers.DefaultRouter()
for collection, model in MODELS.items():
    meta = type("Meta", (), {"model": model, "fields": "__all__"})
    serializer = type(
        f"{model.__name__}Serializer",
        (serializers.ModelSerializer,),
        {"Meta": meta, "id": serializers.IntegerField()},
    )
    viewset = type(
        f"{model.__name__}ViewSet",
        (viewsets.ModelViewSet,),
        {"queryset": model.objects.all().order_by("id"), "serializer_class": serializer},
    )
    router.register(collection, viewset)
urlpatterns = router.urls


def main():
    with connection.schema_editor() as editor:
        for model in MODELS.values():
            editor.create_model(model)
    with open(sys.argv[1], encoding="utf-8") as f:
        world = json.load(f)
    for collection, records in world.items():
        for record in records:
            MODELS[collection].objects.create(**record)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Threaded(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    from django.core.wsgi import get_wsgi_application

    httpd = make_server("127.0.0.1", 0, get_wsgi_application(), Threaded, Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(json.dumps({"port": httpd.server_address[1]}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
