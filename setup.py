"""Only the optional C converter (overlay._yuva); all other metadata is in setup.cfg.

optional=True: without a compiler the install still succeeds and overlay.yuva
falls back to numpy.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("overlay._yuva", ["overlay/_yuva.c"], extra_compile_args=["-O3"], optional=True)])
