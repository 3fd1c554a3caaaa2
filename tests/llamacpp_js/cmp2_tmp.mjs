import {readGgufFileInfo} from "node-llama-cpp";
const [a, b] = await Promise.all(process.argv.slice(2).map(p => readGgufFileInfo(p, {readTensorInfo: true})));
const flat = (o, p = "") => Object.entries(o).flatMap(([k, v]) => v && typeof v === "object" && !Array.isArray(v) ? flat(v, p + k + ".") : [[p + k, v]]);
const ma = new Map(flat(a.metadata)), mb = new Map(flat(b.metadata));
for (const k of new Set([...ma.keys(), ...mb.keys()])) {
  const x = JSON.stringify(ma.get(k)), y = JSON.stringify(mb.get(k));
  if (x !== y) console.log("meta", k, x?.slice(0, 80), "|", y?.slice(0, 80));
}
console.log("tensors", a.tensorInfo.length, b.tensorInfo.length);
for (let i = 0; i < Math.max(a.tensorInfo.length, b.tensorInfo.length); i++) {
  const x = a.tensorInfo[i], y = b.tensorInfo[i];
  if (!x || !y || x.name !== y.name || x.ggmlType !== y.ggmlType || String(x.offset) !== String(y.offset)) console.log("tensor", i, x?.name, x?.ggmlType, x?.offset, "|", y?.name, y?.ggmlType, y?.offset);
}
