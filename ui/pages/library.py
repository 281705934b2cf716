"""Page script: the Library."""
from ui import library

library.render()
