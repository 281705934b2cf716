"""Page script: the SPOS supernet."""
from ui import supernet

supernet.render()
