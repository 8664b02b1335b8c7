"""The cadastre solaire engine: per-pixel annual irradiation from a surface model, with shading.

Pure functions on arrays underneath (``terrain``, ``sky``, ``irradiation``, ``roofs``), file
I/O at the edges (``raster``), tiling and scheduling in ``pipeline``, the command line in
``cli``.
"""
