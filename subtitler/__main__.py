from subtitler.cli import app

app()
