"""Page script: the Zoo."""
from ui import zoo_page

zoo_page.render()
