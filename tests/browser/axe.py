"""axe-core (npm ``axe-core``, pinned in package.json) run inside a Playwright page.

``serious_violations(page)`` injects axe into the page as it is now and returns what it finds
of impact "serious" or "critical", one readable line per failing element. The pages carry a
Content-Security-Policy without inline scripts, so the injected script needs a browser
context opened with ``bypass_csp=True`` (``AXE_CONTEXT``); the page's own behaviour is the
same either way, since none of it relies on being refused."""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Options for browser.new_context(...) when a page will be checked by axe.
AXE_CONTEXT = {"bypass_csp": True}

# WCAG 2.0/2.1 A and AA, and axe's best practices (landmarks, one h1, skip link target …).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")

_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({
      impact: n.impact, target: n.target.join(" "), summary: n.failureSummary || "",
      html: n.html.slice(0, 160),
    })),
  }));
}"""


def inject(page) -> None:
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE_JS))


# Colours judged mid-fade are neither the old nor the new (Tabler's buttons and links fade
# their colours): let running CSS transitions end first. Endless animations (spinners) are
# not transitions and are not waited for.
_SETTLE = """() => Promise.race([
  Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition)
    .map((a) => a.finished.catch(() => null))),
  new Promise((done) => setTimeout(done, 2000)),
])"""


def violations(page) -> list[dict]:
    """Every violation axe finds on the page, as plain data."""
    page.evaluate(_SETTLE)
    inject(page)
    return page.evaluate(_RUN, TAGS)


def serious_violations(page) -> list[str]:
    """The serious and critical violations, formatted: "rule: help — selector (detail)"."""
    found = []
    for violation in violations(page):
        for node in violation["nodes"]:
            if (node["impact"] or violation["impact"]) not in BLOCKING:
                continue
            detail = " ".join(node["summary"].split())
            found.append(f"{violation['id']} ({violation['help']}): {node['target']}"
                         f" — {detail[:300]} — {node['html']}")
    return found
