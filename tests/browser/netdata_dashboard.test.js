// Netdata's own dashboards (Debian's netdata-web) served by nanodata, in Debian's chromium
// through playwright-core: the node's dashboard and a streamed child's (/host/<child>/) draw
// charts with data, the alarms window lists alarms and the log, and a custom page on
// Netdata's dashboard.js (tests/fixtures/web/custom-dashboard.html, served by the child from
// its own web directory) draws its charts. No page error, no console error from nanodata's
// origin, and no request to nanodata answered with an error.
// Requests that leave the node (Netdata's dashboard asks GitHub and its news feed) are
// aborted at once: the test works offline, and those failures are not nanodata's.
// Usage: node netdata_dashboard.test.js PARENT_URL CHILD_NAME CUSTOM_URL SHOT_DIR
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const parent = process.argv[2].replace(/\/$/, "");
const childName = process.argv[3];
const custom = process.argv[4].replace(/\/$/, "");
const shots = process.argv[5] || ".";

// Requests whose failures are listed, not counted (none: the alarms window's badges, one per
// active alarm, are answered since issue 16 item 3).
const PENDING = [];

function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok - " + what);
}

const origins = [new URL(parent).origin, new URL(custom).origin];
const ours = url => origins.includes(new URL(url).origin);

/// A page that records what nanodata answered: errors, bad statuses, data answers.
async function open(browser, label) {
  const page = await browser.newPage();
  const rec = { label, errors: [], bad: [], pending: [], data: [] };
  page.on("pageerror", e => rec.errors.push("pageerror: " + String(e)));
  page.on("console", m => {
    if (m.type() !== "error") return;
    const where = (m.location() && m.location().url) || "";
    if (where && !ours(where)) return; // a request that left the node, aborted here
    if (PENDING.some(p => p.test(where))) return; // listed with the responses
    rec.errors.push("console: " + m.text() + (where ? " @ " + where : ""));
  });
  page.on("requestfailed", r => {
    const why = (r.failure() && r.failure().errorText) || "";
    // ERR_ABORTED: the page cancelled it (a chart scrolled out of view before its answer).
    if (ours(r.url()) && why !== "net::ERR_ABORTED") rec.bad.push("failed " + r.url() + " " + why);
  });
  page.on("response", async r => {
    if (!ours(r.url())) return;
    const u = new URL(r.url());
    if (r.status() >= 400) {
      (PENDING.some(p => p.test(r.url())) ? rec.pending : rec.bad).push(r.status() + " " + u.pathname + u.search);
      return;
    }
    if (u.pathname.endsWith("/api/v1/data") && r.status() === 200) {
      try {
        rec.data.push({ path: u.pathname, chart: u.searchParams.get("chart"), body: await r.json() });
      } catch (e) {
        rec.bad.push("data answer is not JSON: " + u.pathname + u.search + ": " + e);
      }
    }
  });
  await page.route(url => !ours(url.toString()), route => route.abort());
  return { page, rec };
}

/// Rows of a data answer (jsonwrap or not, json or array format) with a number in them.
function rowsWithValues(body) {
  const result = body.result !== undefined ? body.result : body;
  const rows = Array.isArray(result) ? result : (result.data || []);
  return rows.filter(r => (Array.isArray(r) ? r.slice(1) : [r]).some(v => typeof v === "number" && v !== null));
}

async function colouredPixels(page, selector) {
  return page.$$eval(selector, cs => cs.reduce((n, c) => {
    if (!c.width || !c.height) return n;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] === d[i + 1] && d[i + 1] === d[i + 2])) n++;
    return n;
  }, 0));
}

async function scrollThrough(page, steps) {
  for (let i = 0; i < steps; i++) {
    await page.mouse.wheel(0, 800);
    await page.waitForTimeout(250);
  }
  await page.waitForTimeout(1500);
}

/// Netdata's React dashboard at `base` (the node, or /host/<child>/) draws system.cpu.
async function netdataDashboard(browser, base, label, shot) {
  const { page, rec } = await open(browser, label);
  const prefix = new URL(base + "/").pathname.replace(/\/$/, "");
  await page.goto(base + "/", { waitUntil: "load", timeout: 30000 });
  await page.waitForSelector("#chart_system_cpu canvas", { timeout: 30000 });
  await page.waitForFunction(() => {
    const l = document.querySelector("#chart_system_cpu");
    return l && /\d/.test(l.innerText) && l.querySelectorAll("canvas").length >= 1;
  }, null, { timeout: 20000 });
  await page.waitForTimeout(3000);
  const painted = await colouredPixels(page, "#chart_system_cpu canvas");
  check(painted > 500, label + ": system.cpu is drawn (" + painted + " coloured pixels)");
  const cpu = rec.data.filter(d => d.chart === "system.cpu");
  check(cpu.length > 0 && cpu.every(d => d.path === prefix + "/api/v1/data"),
    label + ": system.cpu data comes from " + prefix + "/api/v1/data (" + cpu.length + " answers)");
  check(cpu.some(d => rowsWithValues(d.body).length >= 2), label + ": and holds values");
  await page.screenshot({ path: path.join(shots, shot + ".png") });
  // Every chart further down asks for its data as it comes into view.
  await scrollThrough(page, 25);
  const charts = new Set(rec.data.map(d => d.chart));
  check(charts.size >= 10, label + ": " + charts.size + " charts asked for data while scrolling");
  const empty = rec.data.filter(d => rowsWithValues(d.body).length === 0).map(d => d.chart);
  check(rec.data.length - empty.length >= 10, label + ": " + (rec.data.length - empty.length) + " data answers with values" +
    (empty.length ? " (without: " + [...new Set(empty)].join(" ") + ")" : ""));
  return { page, rec };
}

function clean(rec) {
  check(rec.errors.length === 0, rec.label + ": no page or console error" + (rec.errors.length ? ": " + rec.errors.join(" | ") : ""));
  check(rec.bad.length === 0, rec.label + ": no request to nanodata answered with an error" + (rec.bad.length ? ": " + rec.bad.join(" | ") : ""));
  if (rec.pending.length) console.log("# " + rec.label + ": not yet answered: " + [...new Set(rec.pending)].join(" "));
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "nanodata-chromium-"));
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
    fs.mkdirSync(shots, { recursive: true });
    // The node.
    const node = await netdataDashboard(browser, parent, "node", "netdata-dashboard");
    const hosts = await node.page.evaluate(async () => (await (await fetch("api/v1/info")).json()).mirrored_hosts);
    check(hosts.includes(childName), "the node lists the streamed child: " + hosts);
    // Its alarms window: active, all, and the log, as Netdata's dashboard asks for them.
    await node.page.evaluate(() => window.scrollTo(0, 0));
    await node.page.evaluate(() => window.$("#alarmsModal").modal("show"));
    await node.page.waitForSelector("a[href='#alarms_all']", { state: "visible", timeout: 10000 });
    await node.page.waitForTimeout(1000);
    await node.page.click("a[href='#alarms_all']");
    const allText = () => node.page.evaluate(() => document.getElementById("alarms_all").innerText);
    try {
      // One heading per chart type and family with alarms ("system - cpu", "net - eth0", …).
      await node.page.waitForFunction(() => /\bsystem - cpu\b/.test(document.getElementById("alarms_all").innerText) &&
        (document.getElementById("alarms_all").innerText.match(/^\S+ - .+$/gm) || []).length >= 3, null, { timeout: 15000 });
    } catch (e) {
      await node.page.screenshot({ path: path.join(shots, "netdata-dashboard-alarms.png") });
      throw new Error("the alarms window lists no alarm: " + (await allText()).slice(0, 300));
    }
    check(true, "node: the alarms window lists the alarms: " + (await allText()).replace(/\s+/g, " ").slice(0, 70));
    await node.page.click("a[href='#alarms_log']");
    await node.page.waitForFunction(() => /CLEAR|WARNING|CRITICAL|UNDEFINED|UNINITIALIZED/.test(
      document.getElementById("alarms_log").innerText), null, { timeout: 15000 });
    check(true, "node: and the alarm log");
    await node.page.screenshot({ path: path.join(shots, "netdata-dashboard-alarms.png") });
    clean(node.rec);
    await node.page.close();

    // The child through the parent.
    const child = await netdataDashboard(browser, parent + "/host/" + childName, "child", "netdata-dashboard-child");
    const title = await child.page.title();
    check(/netdata dashboard/i.test(title), "child: Netdata's page (" + title + ")");
    clean(child.rec);
    await child.page.close();

    // A custom page on dashboard.js, from the child's own web directory.
    const { page, rec } = await open(browser, "custom page");
    await page.goto(custom + "/", { waitUntil: "load", timeout: 30000 });
    for (const id of ["cpu", "load", "ram", "cpu-gauge"]) {
      await page.waitForSelector("#" + id + " canvas", { timeout: 20000 });
    }
    await page.waitForTimeout(3000);
    const drawn = {};
    for (const id of ["cpu", "load", "ram", "cpu-gauge"]) drawn[id] = await colouredPixels(page, "#" + id + " canvas");
    check(Object.values(drawn).every(n => n > 20), "custom page: every data-netdata div is drawn " + JSON.stringify(drawn));
    const legend = await page.$eval("#cpu", e => e.innerText);
    check(/user\s+[\d.]+/.test(legend), "custom page: the dygraph legend shows values: " + legend.replace(/\s+/g, " ").slice(0, 80));
    const asked = new Set(rec.data.map(d => d.chart));
    check(["system.cpu", "system.load", "system.ram"].every(c => asked.has(c)), "custom page: asked the child's data API for " + [...asked]);
    check(rec.data.every(d => rowsWithValues(d.body).length > 0), "custom page: every data answer holds values");
    await page.screenshot({ path: path.join(shots, "custom-dashboard.png") });
    clean(rec);
  } catch (e) {
    console.error(String(e && e.stack || e));
    failed = true;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})();
