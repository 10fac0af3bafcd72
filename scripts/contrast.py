#!/usr/bin/env python3
"""WCAG 2 contrast ratios of the colour pairs style/main.css uses for text.

    scripts/contrast.py            # checks the pairs below, exits 1 if one is under 4.5:1
    echo "#fff #187a41 x" | scripts/contrast.py -   # any pairs, one "FG BG name" a line

Keep the list in step with style/main.css when a colour changes.
"""
import sys

PAIRS = """
#1d2430 #f6f7f9 text on page bg
#1d2430 #ffffff text on panel
#5b6472 #f6f7f9 .muted on page bg
#5b6472 #ffffff .muted, table headers, labels on panel
#5b6472 #eef3ff .muted on an unread notification
#5b6472 #fdecea .muted on a differing compare row
#5b6472 #e8f4ec .muted on .notice
#2457d6 #ffffff links, secondary buttons on panel
#2457d6 #f6f7f9 links on page bg
#2457d6 #eef3ff links on an unread notification
#2457d6 #eef1f5 links on an open menu's summary
#ffffff #2457d6 .button, unread tag
#ffffff #187a41 .badge-synced
#ffffff #8a6100 .badge-pending
#ffffff #c0352b .badge-failed, .button.danger, bell count
#ffffff #b04a00 .badge-orphaned_local, .badge-review
#ffffff #6b46c1 .badge-orphaned_calcom
#ffffff #2a6f97 .badge-verification_pending
#ffffff #5b6472 .badge without a state
#187a41 #ffffff .run-succeeded on panel
#2a6f97 #ffffff .run-queued, .run-running on panel
#c0352b #ffffff .run-failed, .error, .field-error on panel
#c0352b #f6f7f9 .error on page bg
#c0352b #fdecea differing compare row header
#1d2430 #eef1f5 code, open menu summary
#1d2430 #e4e7ec bell count at zero
#1d2430 #e8f4ec .notice text
#1d2430 #fff8ec .shown-once text
"""


def luminance(hex_colour):
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(fg, bg):
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def main():
    lines = sys.stdin.read() if sys.argv[1:] == ["-"] else PAIRS
    failed = False
    for line in lines.strip().splitlines():
        fg, bg, *name = line.split()
        r = ratio(fg, bg)
        ok = r >= 4.5
        failed |= not ok
        print(f"{r:5.2f}:1 {'ok ' if ok else 'LOW'} {fg} on {bg}  {' '.join(name)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
