"""The course website's build (``book/build.py``, run by ``make book``).

``book.execution``  the chapters executed with their solutions, once, through jupyter-cache
``book.staging``    an edition's pages made from them, the download boxes, the text checks
"""
