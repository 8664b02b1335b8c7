"""Fictional inputs in the real formats, to show and test the cadastre without real data.

``district``: one surface model with its roofs (a mining cité, a terril), in memory.
``territory``: several LiDAR HD tiles, a BD TOPO ``batiment`` layer and a BAN address file
on disk, as IGN and the BAN ship them. Everything written says it is synthetic.
"""
