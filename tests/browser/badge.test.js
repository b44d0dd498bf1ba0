// Badges (/api/v1/badge.svg) in Debian's chromium through playwright-core: badges embedded
// as <img> in a page render; a badge opened as a document shows the value /api/v1/data
// answers for the same window, and its script lays the boxes out around the drawn texts;
// an alarm badge is coloured by the alarm's status (the example's cpu_user_busy is WARNING).
// Usage: node badge.test.js http://127.0.0.1:PORT/ screenshot.png
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.argv[2].replace(/\/$/, "");
const shot = process.argv[3] || "badge.png";

function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok - " + what);
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "nanodata-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 800, height: 400 },
    timeout: 30000,
  });
  let failed = false;
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));

    // A window that has ended, so that the badge and the data API answer the same thing.
    const info = await (await page.request.get(base + "/api/v1/data?chart=system.cpu&after=-3&format=json&options=jsonwrap|seconds")).json();
    const before = info.last_entry - 2, after = before - 9;
    const window = "after=" + after + "&before=" + before + "&options=unaligned";
    const ssv = await (await page.request.get(base + "/api/v1/data?chart=system.cpu&" + window + "&points=1&format=ssv")).text();
    const want = Number(ssv.trim().split(/\s+/)[0]).toFixed(2) + "%";

    // As a document: the SVG with its script.
    const res = await page.goto(base + "/api/v1/badge.svg?chart=system.cpu&" + window + "&precision=2&label=cpu", { waitUntil: "load" });
    check(res.status() === 200 && res.headers()["content-type"] === "image/svg+xml", "badge.svg answers an SVG");
    const doc = await page.evaluate(() => {
      const svg = document.documentElement;
      const q = c => svg.getElementsByClassName(c);
      const lbl = q("bdge-lbl-lbl"), val = q("bdge-lbl-val");
      return {
        label: lbl[lbl.length - 1].textContent,
        value: val[val.length - 1].textContent,
        width: parseFloat(svg.getAttribute("width")),
        drawn: lbl[0].getBBox().width + val[0].getBBox().width + 16,
        valueRect: parseFloat(q("bdge-rect-val")[0].getAttribute("width")),
        valueDrawn: val[0].getBBox().width + 8,
      };
    });
    check(doc.label === "cpu", "the label is the one asked for: " + doc.label);
    check(doc.value === want, "the value is /api/v1/data's for the same window: " + doc.value + " (data: " + want + ")");
    check(Math.abs(doc.width - doc.drawn) < 0.01 && Math.abs(doc.valueRect - doc.valueDrawn) < 0.01,
      "the script fits the boxes to the drawn texts: " + doc.width.toFixed(2) + " px");

    // Embedded as images, as README files and wikis do.
    const imgs = [
      "chart=system.cpu&refresh=auto",
      "chart=system.cpu&alarm=cpu_user_busy",
      "chart=system.load&label=load&value_color=red>100|green",
      "chart=system.cpu&scale=200&label_color=blue",
      "chart=no.such.chart",
    ].map(q => '<p><img id="b' + q.length + '" src="' + base + "/api/v1/badge.svg?" + q + '"></p>').join("");
    // A page of the node's origin (answered here), as a wiki page embedding them.
    const html = "<html><body style='background:#fff'>" + imgs + "</body></html>";
    await page.route(base + "/badges.html", route => route.fulfill({ contentType: "text/html", body: html }));
    await page.goto(base + "/badges.html", { waitUntil: "load" });
    const sizes = await page.$$eval("img", is => is.map(i => [i.complete, i.naturalWidth, i.naturalHeight]));
    check(sizes.every(([c, w, h]) => c && w > 20 && h >= 20), "every <img> badge renders: " + JSON.stringify(sizes));
    check(sizes[3][1] > sizes[0][1] && sizes[3][2] === 40, "scale=200 doubles the height");
    await page.screenshot({ path: shot });

    // The alarm badge: WARNING is orange, the label is the alarm's name with spaces.
    const alarm = await (await page.request.get(base + "/api/v1/badge.svg?chart=system.cpu&alarm=cpu_user_busy&refresh=auto")).text();
    check(/class="bdge-rect-val"[^>]*fill="#fe7d37"/.test(alarm), "a WARNING alarm's badge is orange");
    check(/>cpu user busy<\/text>/.test(alarm) && /[\d.]+%<\/text>/.test(alarm), "it shows the alarm's name and value");
    check(errors.length === 0, "no page error" + (errors.length ? ": " + errors.join(" | ") : ""));
  } catch (e) {
    console.error(String(e && e.stack || e));
    failed = true;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})();
