import multiprocessing

from vqa_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # frozen (PyInstaller) builds start training jobs as child processes
    raise SystemExit(main())
