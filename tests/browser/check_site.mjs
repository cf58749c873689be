// Opens a deliverables site (report's index.html) from disk in headless Chromium and checks what a reader sees:
// every image loaded, no console errors or failed requests, every deliverable D1-D13, the sweep G, the emoji E and ports P1-P3 have their sections, nothing is wider
// than the screen; then takes full-page screenshots at a laptop's and a phone's width.
//   node check_site.mjs SITE_DIR SCREENSHOT_DIR [--chromium PATH]
// Exit status: 0 pass, 1 a check failed (each failure is one line), 77 no Chromium (skipped).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [siteDir, shotDir] = process.argv.slice(2);
const flag = process.argv.indexOf('--chromium');
const chromium = flag > 0 ? process.argv[flag + 1] : '/usr/bin/chromium';
if (!siteDir || !shotDir) {
  console.error('usage: node check_site.mjs SITE_DIR SCREENSHOT_DIR [--chromium PATH]');
  process.exit(2);
}
if (!fs.existsSync(chromium)) {
  console.log(`skipped: no Chromium at ${chromium} (scripts/setup.sh installs Debian's chromium)`);
  process.exit(77);
}
let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch {
  console.log('skipped: puppeteer-core is not installed (scripts/setup.sh runs npm ci in tests/browser)');
  process.exit(77);
}
const index = path.resolve(siteDir, 'index.html');
if (!fs.existsSync(index)) {
  console.error(`FAIL: ${index} does not exist`);
  process.exit(1);
}
fs.mkdirSync(shotDir, { recursive: true });

const failures = [];
const fail = (message) => failures.push(message);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'unetflow-chromium-'));
// The flags keep Chromium off the network (this machine has none) and away from any desktop.
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  for (const [width, height, name] of [[1280, 800, 'laptop'], [390, 844, 'phone']]) {
    const page = await browser.newPage();
    await page.setViewport({ width, height, deviceScaleFactor: 1 });
    page.on('console', (m) => { if (m.type() === 'error') fail(`${name}: console error: ${m.text()}`); });
    page.on('pageerror', (e) => fail(`${name}: page error: ${e.message}`));
    page.on('requestfailed', (r) => fail(`${name}: request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) fail(`${name}: the page asks the network for ${r.url()}`); });
    await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });
    const report = await page.evaluate(() => {
      const images = [...document.images].map((img) => ({ src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
                                                          fits: img.getBoundingClientRect().right <= document.documentElement.clientWidth + 1 }));
      const sections = [...document.querySelectorAll('section.deliverable')].map((s) => ({ id: s.id, missing: s.classList.contains('is-missing') }));
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + (e.id ? '#' + e.id : ''));
      return { images, sections, wide, scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth };
    });
    for (const img of report.images) {
      if (!img.ok) fail(`${name}: image did not load: ${img.src}`);
      if (!img.fits) fail(`${name}: image wider than the screen: ${img.src}`);
      if (/^(\/|[a-z]+:)/i.test(img.src)) fail(`${name}: image path is not relative: ${img.src}`);
    }
    for (const id of [...Array.from({ length: 13 }, (_, i) => `d${i + 1}`), 'g', 'e', 'p1', 'p2', 'p3'])
      if (!report.sections.some((s) => s.id === id)) fail(`${name}: no section for ${id.toUpperCase()}`);
    if (report.scrollWidth > report.clientWidth + 1)
      fail(`${name}: the page is ${report.scrollWidth} px wide on a ${report.clientWidth} px screen (${report.wide.slice(0, 5).join(', ')})`);
    const shot = path.join(shotDir, `site-${width}px.png`);
    await page.screenshot({ path: shot, fullPage: true });
    const missing = report.sections.filter((s) => s.missing).map((s) => s.id.toUpperCase());
    console.log(`${name} (${width} px): ${report.images.length} images, ${report.sections.length} deliverable sections` +
                `${missing.length ? ` (missing: ${missing.join(' ')})` : ''}, screenshot ${shot}`);
    await page.close();
  }
  // Printable: the page renders to a PDF.
  const page = await browser.newPage();
  await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  if (pdf.length < 1000) fail(`print: the PDF has only ${pdf.length} bytes`);
  fs.writeFileSync(path.join(shotDir, 'site.pdf'), pdf);
  console.log(`print: ${path.join(shotDir, 'site.pdf')} (${Math.round(pdf.length / 1024)} KiB)`);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
for (const f of failures) console.error(`FAIL: ${f}`);
process.exit(failures.length ? 1 : 0);
