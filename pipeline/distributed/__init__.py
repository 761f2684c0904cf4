"""Rendering across processes and machines: one video split into frame ranges (segments, join),
many recordings at once (batch), each unit a normal `overdash render` run in a child process
(tasks), here or on a Ray cluster (ray_backend, imported only when --ray asks for it).

Nothing here imports a command: the commands (pipeline.commands.split, .batch) say what to
run, these modules run it.
"""
