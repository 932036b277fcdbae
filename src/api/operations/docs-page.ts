import { defineOperation } from "../operation.ts";

/** A self-contained API reference page: it renders /openapi.json with a few lines of inline script (no CDN). */
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>vault-backend API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 1.5rem;color:#1a1a1a;background:#fff}
h1{margin:.2rem 0}section{border:1px solid #d0d0d0;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}.get{color:#0b5394}.post{color:#1e6b1e}.delete{color:#a61c00}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f4f4f4;border-radius:4px;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}
.codes{color:#444}.scope{background:#fde9c9;border-radius:4px;padding:0 .4rem;margin-left:.5rem}
</style></head><body><h1>vault-backend API</h1><p id="desc"></p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p><main id="routes">Loading…</main>
<script>
fetch("/openapi.json").then(r=>r.json()).then(doc=>{
  document.getElementById("desc").textContent=doc.info.description+" Version "+doc.info.version+".";
  const main=document.getElementById("routes");main.textContent="";
  for(const [path,ops] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(ops)){
    const s=document.createElement("section");const h=document.createElement("h2");
    const m=document.createElement("span");m.className="m "+method;m.textContent=method;h.append(m,document.createTextNode(" "+path));
    if(op["x-required-scope"]){const sc=document.createElement("span");sc.className="scope";sc.textContent="x-api-key: "+op["x-required-scope"];h.append(sc)}
    const p=document.createElement("p");p.textContent=op.summary;s.append(h,p);
    const body=op.requestBody&&op.requestBody.content["application/json"].schema;
    if(body){const pre=document.createElement("pre");pre.textContent=JSON.stringify(body,null,2);s.append(pre)}
    const codes=Object.entries(op.responses).filter(([st])=>st>=400).map(([st,r])=>st+" "+r.description).join(" · ");
    if(codes){const c=document.createElement("p");c.className="codes";c.textContent="Errors: "+codes;s.append(c)}
    main.append(s)}}
}).catch(e=>{document.getElementById("routes").textContent="Could not load /openapi.json: "+e});
</script></body></html>`;

export default defineOperation({
  method: "get",
  path: "/docs",
  summary: "Human-readable API reference (HTML)",
  tag: "system",
  success: { status: 200, contentType: "text/html", description: "The reference page; it renders /openapi.json" },
  errors: [],
  handler: (c) => c.html(DOCS_HTML),
});
