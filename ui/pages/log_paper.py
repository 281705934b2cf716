"""Page script: Log a paper."""
from ui import log_paper

log_paper.render()
