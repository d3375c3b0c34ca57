"""Dialogs: training, models, auto-accept, import / export, flag note."""
