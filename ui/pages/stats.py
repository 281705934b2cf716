"""Page script: Reading stats."""
from ui import stats

stats.render()
