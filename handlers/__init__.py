"""Telegram handlers, grouped by feature, one module per user task. Each module's ``register(app)`` adds its
handlers; the composition root (``bot.app.register_handlers``) calls them in order, the fallback last."""
