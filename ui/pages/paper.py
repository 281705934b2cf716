"""Page script: one paper (?id=<paper id>)."""
from ui import library

library.render_paper()
