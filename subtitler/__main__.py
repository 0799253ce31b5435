from subtitler.cli import app

if __name__ == "__main__":  # worker processes are spawned: they import this as __mp_main__
    app()
