// The lottery verifier (docs/decisions/0019-provably-fair-draws.md): recomputes a draw in
// the browser from the published proof alone — sha256(seed) against the commitment, the
// canonical entry list against the snapshot hash, and every winner with HMAC-SHA256
// (WebCrypto) and BigInt, exactly as jifen.activities.fairness does in Python.
// The proof is read from <script type="application/json" id="lottery-proof"> at the moment
// "Verify" is pressed. No inline script, no server call.
(function () {
  "use strict";

  var SPACE = 1n << 256n;
  var MAX_ATTEMPTS = 64;
  var encoder = new TextEncoder();

  function hexToBytes(hex) {
    if (typeof hex !== "string" || !/^([0-9a-f]{2})+$/i.test(hex)) throw new Error("bad hex");
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function sha256Hex(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(bytesToHex);
  }

  function snapshotText(entries) {
    return entries.slice().sort(function (a, b) { return a.id - b.id; })
      .map(function (e) { return e.id + ":" + e.weight + "\n"; }).join("");
  }

  // t uniform in [0, modulus): HMAC(seed, prefix + "|" + attempt), rejection sampling.
  async function uniform(key, prefix, modulus) {
    var limit = (SPACE / modulus) * modulus;
    for (var attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      var mac = await crypto.subtle.sign("HMAC", key, encoder.encode(prefix + "|" + attempt));
      var hex = bytesToHex(mac);
      var x = BigInt("0x" + hex);
      if (x < limit) return { t: x % modulus, value: hex };
    }
    throw new Error("too many rejected draws");
  }

  async function scheduled(key, proof) {
    var remaining = proof.entries.map(function (e) { return { id: e.id, weight: BigInt(e.weight) }; })
      .sort(function (a, b) { return a.id - b.id; });
    var total = remaining.reduce(function (s, e) { return s + e.weight; }, 0n);
    var picks = [];
    var k = 0;
    for (var ti = 0; ti < proof.tiers.length; ti++) {
      var tier = proof.tiers[ti];
      for (var n = 0; n < tier.quantity; n++) {
        if (!remaining.length) return picks;
        var drawn = await uniform(key, proof.snapshot_hash + "|draw|" + k, total);
        var running = 0n;
        for (var p = 0; p < remaining.length; p++) {
          running += remaining[p].weight;
          if (running > drawn.t) {
            picks.push({ index: k, entry: remaining[p].id, tier: tier.id, value: drawn.value });
            total -= remaining[p].weight;
            remaining.splice(p, 1);
            break;
          }
        }
        k += 1;
      }
    }
    return picks;
  }

  async function instant(key, proof) {
    var left = proof.tiers.map(function (t) { return { id: t.id, q: t.quantity }; });
    var ids = proof.entries.map(function (e) { return e.id; }).sort(function (a, b) { return a - b; });
    var picks = [];
    for (var i = 0; i < ids.length; i++) {
      var position = i + 1;
      var slots = BigInt(proof.entry_slots - position + 1);
      if (slots < 1n) throw new Error("more entries than slots");
      var prizes = BigInt(left.reduce(function (s, t) { return s + t.q; }, 0));
      var drawn = await uniform(key, proof.commitment + "|instant|" + ids[i], slots);
      if (drawn.t < prizes) {
        var running = 0n;
        for (var j = 0; j < left.length; j++) {
          if (left[j].q <= 0) continue;
          running += BigInt(left[j].q);
          if (running > drawn.t) {
            picks.push({ index: position, entry: ids[i], tier: left[j].id, value: drawn.value });
            left[j].q -= 1;
            break;
          }
        }
      }
    }
    return picks;
  }

  function mark(root, name, ok) {
    var cell = root.querySelector('[data-check="' + name + '"]');
    cell.textContent = ok ? root.dataset.yes : root.dataset.no;
    cell.className = ok ? "text-success" : "text-danger";
  }

  async function run(root) {
    var verdict = document.getElementById("verdict");
    var proof = JSON.parse(document.getElementById("lottery-proof").textContent);
    verdict.classList.remove("d-none", "alert-success", "alert-danger", "alert-info");
    if (!window.crypto || !crypto.subtle) {
      verdict.classList.add("alert-info");
      verdict.textContent = root.dataset.nocrypto;
      return;
    }
    if (!proof.seed) {
      verdict.classList.add("alert-info");
      verdict.textContent = root.dataset.pending;
      return;
    }
    var okSeed = false, okSnap = false, okWinners = false, picks = [];
    try {
      var seed = hexToBytes(proof.seed);
      okSeed = seed.length === 32 && (await sha256Hex(seed)) === proof.commitment;
      okSnap = (await sha256Hex(encoder.encode(snapshotText(proof.entries)))) === proof.snapshot_hash;
      var key = await crypto.subtle.importKey("raw", seed, { name: "HMAC", hash: "SHA-256" },
                                              false, ["sign"]);
      picks = proof.mode === "instant" ? await instant(key, proof) : await scheduled(key, proof);
      var expected = picks.map(function (p) { return p.index + ":" + p.entry + ":" + p.tier; }).sort();
      var claimed = proof.winners.map(function (w) {
        return w.draw_index + ":" + w.entry_id + ":" + w.tier_id;
      }).sort();
      okWinners = expected.join(",") === claimed.join(",");
    } catch (err) {
      okWinners = false;
    }
    mark(root, "seed", okSeed);
    mark(root, "snapshot", okSnap);
    mark(root, "winners", okWinners);
    var byIndex = {};
    picks.forEach(function (p) { byIndex[p.index] = p; });
    proof.winners.forEach(function (w) {
      var cell = document.querySelector('[data-winner-check="' + w.draw_index + '"]');
      if (!cell) return;
      var p = byIndex[w.draw_index];
      var same = p && p.entry === w.entry_id && p.tier === w.tier_id && p.value === w.value;
      cell.textContent = same ? root.dataset.yes : root.dataset.no;
      cell.className = same ? "text-success" : "text-danger";
    });
    var all = okSeed && okSnap && okWinners;
    verdict.classList.add(all ? "alert-success" : "alert-danger");
    verdict.dataset.result = all ? "agree" : "disagree";
    verdict.textContent = all ? root.dataset.agree : root.dataset.disagree;
  }

  function start() {
    var root = document.getElementById("verifier");
    var button = document.getElementById("verify-run");
    if (!root || !button) return;
    button.addEventListener("click", function () {
      button.disabled = true;
      run(root).finally(function () { button.disabled = false; });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
