/* ikb-agent: check an audit pack in the browser, offline (Web Crypto only; no libraries, no network).
 *
 * Written into every pack's index.html and nowhere fetched from. Checks, in the order of `ikb-agent verify`:
 * the seal (manifest.sha256), the manifest's SHA-256, the farm key's Ed25519 signature (manifest.sig), that
 * every file is listed and unchanged (SHA-256), each logbook's hash chain from its first row to its head
 * (canonical JSON exactly as agent/logbooks/chain.py writes it), the heads and lengths in the manifest, and the
 * fingerprint over all heads. The first problem is named: a file, or a chain line with its registration id.
 *
 * Input: the unpacked folder (<input webkitdirectory>) or the zip itself (read with DecompressionStream).
 */
(function () {
  "use strict";

  var GENESIS = "0000000000000000000000000000000000000000000000000000000000000000";
  var OWN = ["manifest.json", "manifest.sha256", "manifest.sig"];
  var ENVELOPE = ["id", "kind", "entry", "recorded_at", "recorded_by", "supersedes", "reason", "state",
                  "keep_until"];
  var utf8 = new TextDecoder("utf-8", {fatal: true});

  // ------------------------------------------------------------------ bytes

  function hex(buffer) {
    var out = "", bytes = new Uint8Array(buffer);
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  async function sha256(bytes) {
    return hex(await crypto.subtle.digest("SHA-256", bytes));
  }

  function ascii(text) {
    return new TextEncoder().encode(text);
  }

  function fromBase64(text) {
    var raw = atob(text.trim());
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function base32(bytes) {  // RFC 4648, as Python's base64.b32encode (no padding needed for 10 bytes)
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", bits = 0, value = 0, out = "";
    for (var i = 0; i < bytes.length; i++) {
      value = (value << 8) | bytes[i];
      bits += 8;
      while (bits >= 5) {
        out += alphabet[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
    return out;
  }

  // ------------------------------------------------------------------ reading a pack

  async function inflateRaw(data) {
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // Return a Map of member name -> async () => Uint8Array for a zip file (stored or deflated members).
  async function readZip(blob) {
    var buf = new Uint8Array(await blob.arrayBuffer());
    var dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    var eocd = -1;
    for (var p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 65535); p--) {
      if (dv.getUint32(p, true) === 0x06054b50) { eocd = p; break; }
    }
    if (eocd < 0) throw new Error("geen zip-bestand (of het einde ontbreekt)");
    var count = dv.getUint16(eocd + 10, true), at = dv.getUint32(eocd + 16, true);
    var members = new Map();
    for (var n = 0; n < count; n++) {
      if (at + 46 > buf.length || dv.getUint32(at, true) !== 0x02014b50) {
        throw new Error("de inhoudsopgave van het zip-bestand is beschadigd");
      }
      var method = dv.getUint16(at + 10, true), size = dv.getUint32(at + 20, true);
      var nameLength = dv.getUint16(at + 28, true), extra = dv.getUint16(at + 30, true);
      var comment = dv.getUint16(at + 32, true), local = dv.getUint32(at + 42, true);
      var name = new TextDecoder("utf-8").decode(buf.subarray(at + 46, at + 46 + nameLength));
      at += 46 + nameLength + extra + comment;
      members.set(name, (function (method, size, local, name) {
        return async function () {
          if (local + 30 > buf.length || dv.getUint32(local, true) !== 0x04034b50) {
            throw new Error("beschadigd (kop ontbreekt)");
          }
          var start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
          var data = buf.subarray(start, start + size);
          if (method === 0) return data;
          if (method === 8) {
            try { return await inflateRaw(data); } catch (e) { throw new Error("beschadigd (niet uit te pakken)"); }
          }
          throw new Error("onbekende compressie " + method);
        };
      })(method, size, local, name));
    }
    return members;
  }

  // Return a Map like readZip's for the files of a picked folder: names relative to the folder holding
  // manifest.json (the pack's root), so picking the unpacked folder or its parent both work.
  function readFolder(fileList) {
    var files = Array.prototype.slice.call(fileList), root = null;
    files.forEach(function (f) {
      var path = f.webkitRelativePath || f.name;
      if (path === "manifest.json" || path.slice(-14) === "/manifest.json") {
        var prefix = path.slice(0, path.length - "manifest.json".length);
        if (root === null || prefix.length < root.length) root = prefix;
      }
    });
    var members = new Map();
    if (root === null) return members;
    files.forEach(function (f) {
      var path = f.webkitRelativePath || f.name;
      if (path.slice(0, root.length) === root) {
        members.set(path.slice(root.length), async function () { return new Uint8Array(await f.arrayBuffer()); });
      }
    });
    return members;
  }

  // ------------------------------------------------------------------ canonical JSON (agent/logbooks/chain.py)

  // Numbers keep their text: Python wrote them (json.dumps) and writes them the same way again, and a JavaScript
  // number would lose "5.0" and digits beyond 2^53.
  function RawNumber(text) { this.text = text; }

  function parseJSON(text) {
    var i = 0;
    var number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    function fail() { throw new SyntaxError("geen geldige JSON bij teken " + i); }
    function space() { while (i < text.length && " \t\n\r".indexOf(text[i]) >= 0) i++; }
    function string() {
      var start = i++;
      while (i < text.length) {
        var ch = text[i];
        if (ch === "\\") i += 2;
        else if (ch === "\"") { i++; return JSON.parse(text.slice(start, i)); }
        else i++;
      }
      fail();
    }
    function value() {
      space();
      var ch = text[i];
      if (ch === "{") {
        i++;
        var obj = new Map();
        space();
        if (text[i] === "}") { i++; return obj; }
        for (;;) {
          space();
          if (text[i] !== "\"") fail();
          var key = string();
          space();
          if (text[i++] !== ":") fail();
          obj.set(key, value());
          space();
          if (text[i] === ",") { i++; continue; }
          if (text[i] === "}") { i++; return obj; }
          fail();
        }
      }
      if (ch === "[") {
        i++;
        var list = [];
        space();
        if (text[i] === "]") { i++; return list; }
        for (;;) {
          list.push(value());
          space();
          if (text[i] === ",") { i++; continue; }
          if (text[i] === "]") { i++; return list; }
          fail();
        }
      }
      if (ch === "\"") return string();
      if (text.startsWith("true", i)) { i += 4; return true; }
      if (text.startsWith("false", i)) { i += 5; return false; }
      if (text.startsWith("null", i)) { i += 4; return null; }
      number.lastIndex = i;
      var m = number.exec(text);
      if (!m) fail();
      i += m[0].length;
      return new RawNumber(m[0]);
    }
    var result = value();
    space();
    if (i !== text.length) fail();
    return result;
  }

  function byCodePoint(a, b) {  // Python sorts str keys by code point; JavaScript's sort by UTF-16 unit
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d !== 0) return d;
    }
    return x.length - y.length;
  }

  // json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False): JSON.stringify escapes strings
  // exactly as Python does then (\" \\ \b \f \n \r \t, other controls as \u00xx, everything else as is).
  function canonical(v) {
    if (v === null) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (v instanceof RawNumber) return v.text;
    if (typeof v === "string") return JSON.stringify(v);
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    if (v instanceof Map) {
      return "{" + Array.from(v.keys()).sort(byCodePoint).map(function (k) {
        return JSON.stringify(k) + ":" + canonical(v.get(k));
      }).join(",") + "}";
    }
    throw new TypeError("onbekende waarde");
  }

  function plain(v) {  // a parsed value for reading (numbers as text)
    if (v instanceof RawNumber) return v.text;
    if (v instanceof Map) {
      var o = {};
      v.forEach(function (value, key) { o[key] = plain(value); });
      return o;
    }
    if (Array.isArray(v)) return v.map(plain);
    return v;
  }

  // ------------------------------------------------------------------ the check

  function lines(text) {  // the chain's own line breaks only: a record may hold U+2028 or U+0085
    var out = text.split("\n");
    if (out.length && out[out.length - 1] === "") out.pop();
    return out;
  }

  async function checkChain(name, bytes) {
    var text;
    try { text = utf8.decode(bytes); } catch (e) { return {problem: name + ": geen UTF-8-tekst"}; }
    var head = GENESIS, entries = 0, rows = lines(text);
    for (var n = 1; n <= rows.length; n++) {
      var item, where = name + " regel " + n;
      try { item = parseJSON(rows[n - 1]); } catch (e) { return {problem: where + ": geen geldige JSON"}; }
      if (!(item instanceof Map)) item = new Map();
      if (item.has("id")) where += " (registratie-id " + plain(item.get("id")) + ")";
      var digest;
      try {
        if (item.has("record")) {
          var record = item.get("record"), envelope = new Map();
          if (!(record instanceof Map)) throw new TypeError();
          ENVELOPE.forEach(function (key) {
            if (!record.has(key)) throw new TypeError();
            envelope.set(key, record.get(key));
          });
          digest = await sha256(ascii(canonical(envelope)));
        } else if (item.has("content_hash")) {
          // Format 3 and later: a line with only a digest hides whether its entry belongs to the period.
          return {problem: where + ": alleen een digest, geen registratie: het pakket kan niet aantonen dat het " +
                           "volledig is"};
        } else {
          throw new TypeError();
        }
      } catch (e) {
        return {problem: where + ": onleesbaar (een veld ontbreekt)"};
      }
      if (item.get("prev_hash") !== head) {
        return {problem: where + ": prev_hash klopt niet met de hash van de vorige regel (een regel is " +
                         "weggelaten, ingevoegd of verplaatst)"};
      }
      if (await sha256(ascii(head + digest)) !== item.get("hash")) {
        return {problem: where + ": de hash klopt niet met de inhoud (deze registratie is gewijzigd)"};
      }
      head = item.get("hash");
      entries += 1;
    }
    return {problem: null, head: head, entries: entries};
  }

  async function checkSignature(manifest, manifestBytes, sigBytes, out) {
    var info = manifest.signing;
    if (!info || typeof info !== "object") {
      throw new Error("manifest.json: de handtekening ontbreekt (een pakket van deze versie is altijd ondertekend)");
    }
    if (!sigBytes) throw new Error("manifest.sig: ontbreekt (manifest.json zegt dat het pakket ondertekend is)");
    if (info.algorithm !== "Ed25519") throw new Error("manifest.json: onbekend handtekeningalgoritme");
    var raw;
    try { raw = fromBase64(String(info.public_key)); } catch (e) { raw = new Uint8Array(0); }
    var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 10);
    var printed = base32(digest).match(/.{4}/g).join("-");
    if (raw.length !== 32 || printed !== info.fingerprint) {
      throw new Error("manifest.json: de vingerafdruk van de sleutel hoort niet bij de publieke sleutel");
    }
    var key, signature;
    try {
      key = await crypto.subtle.importKey("raw", raw, {name: "Ed25519"}, false, ["verify"]);
    } catch (e) {
      out.notes.push("deze browser kan Ed25519-handtekeningen niet controleren; de bestanden en ketens zijn " +
                     "wel gecontroleerd (controleer de handtekening met ikb-agent verify)");
      out.unsigned = true;
      return;
    }
    try { signature = fromBase64(utf8.decode(sigBytes)); } catch (e) { signature = new Uint8Array(0); }
    var valid = signature.length === 64 &&
      await crypto.subtle.verify({name: "Ed25519"}, key, signature, manifestBytes);
    if (!valid) throw new Error("manifest.sig: de handtekening klopt niet — manifest.json is na ondertekening gewijzigd");
    out.signed = "ondertekend met bedrijfssleutel " + info.fingerprint;
  }

  // Check a pack given as a Map of name -> async reader. Return {ok, problems, notes, summary, manifest};
  // problems[0] is the first file or entry that does not match.
  async function checkPack(members, options) {
    options = options || {};
    var out = {ok: false, problems: [], notes: [], summary: "", manifest: null, signed: ""};
    var cache = new Map();
    async function read(name) {
      if (!members.has(name)) return null;
      if (!cache.has(name)) cache.set(name, await members.get(name)());
      return cache.get(name);
    }
    var manifest, manifestBytes;
    try {
      var sealBytes = await read("manifest.sha256");
      if (sealBytes === null) throw new Error("manifest.sha256: ontbreekt — is dit een auditpakket van ikb-agent?");
      var seal = new TextDecoder().decode(sealBytes).split(/(?<=\n)/);
      if (seal.length !== 2 || await sha256(ascii(seal[0])) !== seal[1].split(/\s/)[0]) {
        throw new Error("manifest.sha256: gewijzigd (de controleregel klopt niet)");
      }
      manifestBytes = await read("manifest.json");
      if (manifestBytes === null) throw new Error("manifest.json: ontbreekt");
      if (await sha256(manifestBytes) !== seal[0].split(/\s/)[0]) {
        throw new Error("manifest.json: gewijzigd (SHA-256 klopt niet met manifest.sha256)");
      }
      try {
        manifest = JSON.parse(utf8.decode(manifestBytes));
        if (typeof manifest.files !== "object" || typeof manifest.chains !== "object") throw new Error();
      } catch (e) {
        throw new Error("manifest.json: geen geldig manifest");
      }
      if (manifest.format !== "ikb-agent audit pack") throw new Error("manifest.json: geen auditpakket van ikb-agent");
      out.manifest = manifest;
      await checkSignature(manifest, manifestBytes, await read("manifest.sig"), out);
    } catch (e) {
      out.problems.push(e.message);
      return finish(out);
    }
    var listed = Object.keys(manifest.files).sort();
    Array.from(members.keys()).sort().forEach(function (name) {
      if (OWN.indexOf(name) < 0 && !(name in manifest.files)) {
        if (options.folder) out.notes.push(name + ": staat niet in het manifest (niet gecontroleerd)");
        else out.problems.push(name + ": hoort niet bij het pakket (staat niet in het manifest)");
      }
    });
    for (var i = 0; i < listed.length; i++) {
      var name = listed[i], data;
      try {
        data = await read(name);
      } catch (e) {
        out.problems.push(name + ": " + e.message);
        continue;
      }
      if (data === null) out.problems.push(name + ": ontbreekt in het pakket");
      else if (await sha256(data) !== manifest.files[name]) {
        out.problems.push(name + ": gewijzigd (SHA-256 klopt niet met het manifest)");
      }
    }
    var kinds = Object.keys(manifest.chains).sort(byCodePoint), heads = "", total = 0;
    for (var k = 0; k < kinds.length; k++) {
      var info = manifest.chains[kinds[k]] || {}, file = info.file || ("chains/" + kinds[k] + ".jsonl");
      var bytes;
      try { bytes = await read(file); } catch (e) { bytes = null; }
      if (bytes === null) continue;  // named above
      var checked = await checkChain(file, bytes);
      if (checked.problem) { out.problems.push(checked.problem); continue; }
      if (checked.head !== info.head || checked.entries !== info.entries) {
        out.problems.push(file + ": ketenhoofd of lengte klopt niet met het manifest");
      }
      heads += kinds[k] + ":" + checked.head + "\n";
      total += checked.entries;
    }
    if (!out.problems.length && await sha256(ascii(heads)) !== manifest.fingerprint) {
      out.problems.push("manifest.json: de ketenvingerafdruk klopt niet met de ketenhoofden");
    }
    out.summary = (listed.length + 2 + (members.has("manifest.sig") ? 1 : 0)) + " bestanden, " + kinds.length +
      " logboeken (" + total + " ketenregels) kloppen; ketenvingerafdruk " + String(manifest.fingerprint).slice(0, 16) +
      (out.signed ? "; " + out.signed : "");
    return finish(out);
  }

  function finish(out) {
    out.ok = out.problems.length === 0;
    return out;
  }

  // ------------------------------------------------------------------ the page

  function show(result, box, expected) {
    box.textContent = "";
    var head = document.createElement("p");
    head.className = "verdict";
    var list = document.createElement("ul");
    if (result.ok) {
      box.dataset.state = "ok";
      head.textContent = "In orde: " + result.summary + ".";
    } else {
      box.dataset.state = "fail";
      head.textContent = "Niet in orde: " + result.problems[0];
      result.problems.slice(1).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p;
        list.appendChild(li);
      });
    }
    box.appendChild(head);
    var notes = result.notes.slice();
    if (result.manifest && expected && result.manifest.fingerprint !== expected) {
      notes.unshift("let op: dit is een ander pakket dan deze pagina toont (ketenvingerafdruk " +
                    String(result.manifest.fingerprint).slice(0, 16) + ")");
    }
    notes.forEach(function (n) {
      var li = document.createElement("li");
      li.className = "note";
      li.textContent = n;
      list.appendChild(li);
    });
    if (list.childNodes.length) box.appendChild(list);
  }

  function bind() {
    var box = document.getElementById("ikb-check-result");
    if (!box) return;
    var expected = box.getAttribute("data-fingerprint") || "";
    if (!window.crypto || !crypto.subtle) {
      box.dataset.state = "error";
      box.textContent = "Deze browser biedt hier geen Web Crypto (pagina niet via https of als bestand geopend); " +
        "controleer met ikb-agent verify of open index.html uit de uitgepakte map.";
      return;
    }
    async function run(members, folder) {
      box.dataset.state = "busy";
      box.textContent = "Bezig met controleren…";
      try {
        show(await checkPack(members, {folder: folder}), box, expected);
      } catch (e) {
        box.dataset.state = "fail";
        box.textContent = "Niet te controleren: " + e.message;
      }
    }
    var folder = document.getElementById("ikb-pick-folder"), zip = document.getElementById("ikb-pick-zip");
    if (folder) folder.addEventListener("change", function () {
      if (folder.files.length) run(readFolder(folder.files), true);
    });
    if (zip) zip.addEventListener("change", function () {
      if (!zip.files.length) return;
      readZip(zip.files[0]).then(function (members) { return run(members, false); }, function (e) {
        box.dataset.state = "fail";
        box.textContent = "Niet te controleren: " + zip.files[0].name + ": " + e.message;
      });
    });
  }

  window.IkbPackCheck = {checkPack: checkPack, readZip: readZip, readFolder: readFolder, parseJSON: parseJSON,
                         canonical: canonical};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
