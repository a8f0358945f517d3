"""What every app needs and no app owns. Not a Django app: no models, not in INSTALLED_APPS."""
