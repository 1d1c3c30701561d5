"""Task API: a secure, fast, multi-user task REST backend."""

__version__ = "0.1.0"
