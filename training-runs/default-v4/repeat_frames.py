"""Copy an extxyz training file with the frames of some sources repeated (attempt 5's weighting of the data).

    python training-runs/default-v4/repeat_frames.py data4/train.xyz data5/train.xyz liquid=2 iceII-=3

Each PREFIX=K repeats K times (in place, so that every epoch sees it K times under its own random
rotations) every frame whose ``source`` starts with PREFIX; the first matching prefix counts. Other frames
are copied once. The text of each frame is copied as it is.
"""

import re
import sys
from pathlib import Path


def frames(path: Path):
    """The frames of an extxyz file, each as its list of lines."""
    lines = path.read_text().splitlines(keepends=True)
    k = 0
    while k < len(lines):
        n = int(lines[k])
        yield lines[k:k + n + 2]
        k += n + 2


def main(argv: list[str]) -> int:
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    repeats = [(prefix, int(k)) for prefix, k in (a.split("=", 1) for a in argv[2:])]
    source, target = Path(argv[0]), Path(argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    written = read = 0
    with target.open("w") as out:
        for frame in frames(source):
            match = re.search(r"source=(\S+)", frame[1])
            name = match.group(1) if match else ""
            times = next((k for prefix, k in repeats if name.startswith(prefix)), 1)
            out.writelines(frame * times)
            read, written = read + 1, written + times
    print(f"{source}: {read} frames -> {target}: {written} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
