// Renders ZPL labels to PNG files with zpl-renderer-js (for the label tests).
// usage: node render_zpl.js WIDTH_MM HEIGHT_MM DOTS_PER_MM OUT.png   (one label on stdin)
//        node render_zpl.js --serve   (one JSON request per stdin line:
//        {"zpl","width_mm","height_mm","dpmm","out"}; answers "ok" or "error: ..." per line,
//        so a test pays the WebAssembly start-up once, not per label)
const fs = require('fs');
const readline = require('readline');

async function render(api, zpl, widthMm, heightMm, dpmm, out) {
  const png = await api.zplToBase64Async(zpl, Number(widthMm), Number(heightMm), Number(dpmm));
  fs.writeFileSync(out, Buffer.from(png, 'base64'));
}

(async () => {
  const { api } = await require('zpl-renderer-js').ready;
  if (process.argv[2] === '--serve') {
    for await (const line of readline.createInterface({ input: process.stdin })) {
      try {
        const r = JSON.parse(line);
        await render(api, r.zpl, r.width_mm, r.height_mm, r.dpmm, r.out);
        process.stdout.write('ok\n');
      } catch (e) {
        process.stdout.write(`error: ${String(e && e.message ? e.message : e).replace(/\n/g, ' ')}\n`);
      }
    }
    return;
  }
  const [widthMm, heightMm, dpmm, out] = process.argv.slice(2);
  await render(api, fs.readFileSync(0, 'utf8'), widthMm, heightMm, dpmm, out);
})().catch((e) => {
  console.error(`render_zpl: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
