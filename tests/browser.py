"""Open an HTML page in headless Chromium and report what rendered and which script errors occurred.

A copy of the page gets two scripts: one first in the head that records uncaught errors, rejected
promises and ``console.error`` calls, and one that, a moment after the load event, writes a JSON
record of every plotly div (its SVG layers, canvases, traces, whether it holds a 3-D scene) into
a ``<pre>`` that ``--dump-dom`` prints. No screenshot, no driver: only the browser binary.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_FIRST = """<script>window.__ghErrors=[];
window.addEventListener('error',function(e){window.__ghErrors.push('error: '+String(e.message||e));});
window.addEventListener('unhandledrejection',function(e){var r=e.reason;
 window.__ghErrors.push('unhandled rejection: '+String(r&&(r.stack||r.message)||r));});
(function(){var ce=console.error;console.error=function(){window.__ghErrors.push('console.error: '+
 Array.prototype.map.call(arguments,String).join(' '));return ce.apply(console,arguments);};})();</script>"""
_LAST = """<script>window.addEventListener('load',function(){setTimeout(function(){
var out={errors:window.__ghErrors,figures:[]};
document.querySelectorAll('.plotly-graph-div').forEach(function(gd){var fl=gd._fullLayout;
 out.figures.push({id:gd.id,plot:gd.classList.contains('js-plotly-plot'),
  svg:gd.querySelectorAll('svg.main-svg').length,canvas:gd.querySelectorAll('.gl-container canvas').length,
  gl3d:!!(fl&&fl._has&&fl._has('gl3d')),traces:(gd._fullData||[]).length,
  images:fl&&fl.images?fl.images.filter(function(i){return i.source&&i.source.indexOf('data:image/')===0;}).length:0,
  frames:(gd._transitionData&&gd._transitionData._frames||[]).length,
  nowebgl:!!gd.querySelector('.no-webgl')});});
var p=document.createElement('pre');p.id='gh-browser-check';p.textContent=JSON.stringify(out);
document.body.appendChild(p);},1000);});</script>"""


def find_browser() -> str | None:
    """The first Chromium-family browser on PATH, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def check_page(page: Path, browser: str, work: Path, timeout_s: float = 300.0) -> dict:
    """``{"errors": [...], "figures": [{id, plot, svg, canvas, gl3d, traces, images, frames,
    nowebgl}, ...]}`` of ``page`` opened in ``browser`` (headless, software WebGL)."""
    text = page.read_text(encoding="utf-8")
    probe = work / "browser-probe.html"
    probe.write_text(text.replace("<head>", "<head>" + _FIRST, 1).replace("</body>", _LAST + "</body>", 1),
                     encoding="utf-8")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
           "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--virtual-time-budget=60000",
           f"--user-data-dir={work / 'browser-profile'}", "--dump-dom", probe.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    found = re.search(r'<pre id="gh-browser-check">(.*?)</pre>', done.stdout, re.S)
    if found is None:
        raise AssertionError(f"the page did not finish loading in {browser} (exit {done.returncode}):"
                             f" {done.stderr[-1500:]}")
    return json.loads(html.unescape(found.group(1)))
