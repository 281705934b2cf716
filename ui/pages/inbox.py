"""Page script: the Inbox (new arXiv papers ranked by your log)."""
from ui import inbox

inbox.render()
