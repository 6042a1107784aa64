// Renders one ZPL label from stdin to a PNG file with zpl-renderer-js (for the label tests).
// usage: node render_zpl.js WIDTH_MM HEIGHT_MM DOTS_PER_MM OUT.png
const fs = require('fs');

(async () => {
  const [widthMm, heightMm, dpmm, out] = process.argv.slice(2);
  const { api } = await require('zpl-renderer-js').ready;
  const zpl = fs.readFileSync(0, 'utf8');
  const png = await api.zplToBase64Async(zpl, Number(widthMm), Number(heightMm), Number(dpmm));
  fs.writeFileSync(out, Buffer.from(png, 'base64'));
})().catch((e) => {
  console.error(`render_zpl: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
