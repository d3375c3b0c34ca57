"""VQA Studio: a desktop workbench for Visual Question Answering data."""

__version__ = "0.1.0"
