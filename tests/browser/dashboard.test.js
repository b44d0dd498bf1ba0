// Drives Debian's chromium through playwright-core: the dashboard loads, lists both hosts,
// draws charts with data, lists the active alarm and scrolls to its chart, follows live
// updates, and switches to the child host.
// Usage: node dashboard.test.js http://127.0.0.1:PORT/ screenshot.png
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.argv[2];
const shot = process.argv[3] || "dashboard.png";

function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok - " + what);
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "nanodata-chromium-"));
  // A fresh profile directory each run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    timeout: 30000,
  });
  let failed = false;
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));
    const external = [];
    // Data requests as [path of the page that asked, path asked].
    const dataAsked = [];
    page.on("request", r => {
      if (!r.url().startsWith(base.replace(/\/$/, ""))) external.push(r.url());
      else if (r.url().includes("/api/v1/data?")) dataAsked.push([new URL(r.frame().url()).pathname, new URL(r.url()).pathname]);
    });
    const askedFrom = page => dataAsked.filter(([from]) => from === page).map(([, to]) => to);
    await page.goto(base, { waitUntil: "load", timeout: 15000 });

    await page.waitForSelector("#hosts a.host-link", { timeout: 10000 });
    const hosts = await page.$$eval("#hosts a.host-link", as => as.map(a => a.textContent));
    check(hosts.length === 2 && hosts.includes("router") && hosts.includes("ap-kitchen"), "host menu lists both hosts: " + hosts);
    check(await page.$eval("body", b => b.dataset.host) === "router", "the root page shows this node");

    await page.waitForFunction(() => document.querySelectorAll(".chart[data-points]:not([data-points='0'])").length >= 3, null, { timeout: 10000 });
    const drawn = await page.$$eval(".chart", cs => cs.map(c => [c.dataset.chart, +c.dataset.points]));
    check(drawn.filter(([, n]) => n > 0).length >= 3, "charts drawn with data: " + JSON.stringify(drawn));
    const sections = await page.$$eval("nav a.sec", as => as.map(a => a.textContent));
    check(sections.includes("system") && sections.includes("net"), "menu groups charts by type: " + sections);
    const families = await page.$$eval("nav a.fam", as => as.map(a => a.textContent));
    check(families.includes("cpu") && families.includes("eth0"), "and by family: " + families);
    const legend = await page.$eval(".chart[data-chart='system.cpu'] .legend", l => l.textContent);
    check(/user\s+[\d.]+/.test(legend), "legend shows current values: " + legend);
    const painted = await page.$eval(".chart[data-chart='system.cpu'] canvas", c => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let colored = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] === d[i + 1] && d[i + 1] === d[i + 2])) colored++;
      return colored;
    });
    check(painted > 500, "the canvas has colored pixels: " + painted);

    // Active alarms: the example's `cpu_user_busy` is raised on system.cpu.
    await page.waitForFunction(() => document.getElementById("alarmsbtn").textContent === "alarms: 1", null, { timeout: 15000 });
    check(await page.$eval("#alarmsbtn", b => b.classList.contains("bad")), "the alarm button counts one active alarm and turns red");
    await page.click("#alarmsbtn");
    const rows = await page.$$eval("#alarmlist tr.alarm", trs => trs.map(tr => [...tr.children].map(td => td.textContent)));
    check(rows.length === 1 && rows[0][0] === "router" && rows[0][1] === "system.cpu" && rows[0][2] === "cpu_user_busy" && rows[0][3] === "WARNING" && /%/.test(rows[0][4]),
      "the alarm list shows host, chart, alarm, status and value: " + JSON.stringify(rows));
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.click("#alarmlist tr.alarm.go");
    await page.waitForFunction(() => {
      const r = document.querySelector('.chart[data-chart="system.cpu"]').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }, null, { timeout: 5000 });
    check(true, "a click on the alarm scrolls its chart into view");
    await page.click("#alarmsbtn");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(500);

    // Live: a new row arrives within a few seconds.
    const last = async () => page.evaluate(() => {
      const c = [...document.querySelectorAll(".chart")].find(x => x.dataset.chart === "system.cpu")._chart;
      const rows = c.data.result.data; return rows[rows.length - 1][0];
    });
    const t1 = await last();
    await page.waitForTimeout(2500);
    check(await last() > t1, "live updates move the newest point");

    // Shared cursor: hovering one chart shows the cursor time in every visible legend.
    const box = await page.$eval(".chart[data-chart='system.cpu'] canvas", c => { const r = c.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; });
    await page.mouse.move(box[0] + box[2] * 0.5, box[1] + box[3] * 0.5);
    const stamps = await page.$$eval(".chart .legend", ls => ls.slice(0, 3).map(l => l.firstChild && l.firstChild.textContent));
    check(stamps.length >= 2 && stamps.every(s => s === stamps[0]), "shared cursor time in the legends: " + stamps);
    // Pan leaves live mode.
    await page.mouse.down();
    await page.mouse.move(box[0] + box[2] * 0.8, box[1] + box[3] * 0.5, { steps: 5 });
    await page.mouse.up();
    check(!(await page.$eval("#live", b => b.classList.contains("on"))), "dragging pans out of live mode");
    await page.mouse.dblclick(box[0] + box[2] * 0.5, box[1] + box[3] * 0.5);
    check(await page.$eval("#live", b => b.classList.contains("on")), "double-click returns to live");
    await page.mouse.move(0, 0);
    await page.waitForTimeout(1200);
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    console.log("screenshot: " + shot);

    const rootAsked = askedFrom("/");
    check(rootAsked.length >= 3 && rootAsked.every(p => p === "/api/v1/data"), "the root page asks its own data API: " + [...new Set(rootAsked)]);
    // Switch host.
    await Promise.all([page.waitForNavigation({ timeout: 10000 }), page.click("#hosts a.host-link:not(.cur)")]);
    check(new URL(page.url()).pathname === "/host/ap-kitchen/", "switched to " + page.url());
    await page.waitForFunction(() => document.body.dataset.host === "ap-kitchen", null, { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll(".chart[data-points]:not([data-points='0'])").length >= 3, null, { timeout: 10000 });
    const childDrawn = await page.$$eval(".chart", cs => cs.map(c => [c.dataset.chart, +c.dataset.points]));
    check(childDrawn.filter(([, n]) => n > 0).length >= 3, "the child's dashboard draws its charts: " + JSON.stringify(childDrawn));
    const childAsked = askedFrom("/host/ap-kitchen/");
    check(childAsked.length >= 3 && childAsked.every(p => p === "/host/ap-kitchen/api/v1/data"),
      "and takes their data from the child's API: " + [...new Set(childAsked)] + " (" + childAsked.length + " requests)");
    await page.screenshot({ path: shot.replace(/\.png$/, "-child.png") });
    check(errors.length === 0, "no page errors: " + errors.join("; "));
    check(external.length === 0, "no requests leave the node (works offline): " + external.join(" "));
  } catch (e) {
    console.error(String(e && e.stack || e));
    failed = true;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})();
