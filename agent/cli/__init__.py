"""The ``ikb-agent`` command line: the composition root, the only package that may import ``webui``."""

from agent.cli.report import render_score

__all__ = ["render_score"]
