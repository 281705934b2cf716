"""Page script: Search."""
from ui import search

search.render()
