"""Page script: Reading suggestions."""
from ui import citations

citations.render_suggestions()
