#!/usr/bin/env python3
"""Generates the crawl benchmark's 100 local sites into DOCROOT/bench/ and prints the list (one URL per
line, with the expected verdict after a tab) for a fixture server on PORT. The mix (issue 5):
  80 ordinary pages, from static to script-heavy (generated here);
   5 pages with benign sockets (the two chat fixtures and three generated ones);
   5 compute-heavy benign pages (corpus: JS benchmark, Wasm image filter, busy main thread,
     proof-of-work captcha, password hashing);
  10 miners (the corpus's ten: Wasm, main thread, cross-site iframe, throttled, obfuscated, late,
     multi-worker, Wasm decoy, worker, popup).
Deterministic: the same arguments give the same files and order."""
import os
import random
import sys

docroot, port = sys.argv[1], sys.argv[2]
rng = random.Random(20261126)
out = os.path.join(docroot, "bench")
os.makedirs(out, exist_ok=True)

def page(name, title, body, script=""):
    with open(os.path.join(out, name), "w") as f:
        f.write(f"<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'>"
                f"<title>{title}</title></head><body>{body}<script>{script}</script></body></html>\n")

sites = []
# 80 ordinary pages: static text of various sizes, DOM building, and script-heavy pages that load
# several generated libraries (ordinary code the keyword scanner must read and pass).
words = "the of and to in is for on that with as at by from this are be it or an was we can will".split()
for i in range(80):
    kind = i % 4
    paragraphs = "".join("<p>" + " ".join(rng.choice(words) for _ in range(rng.randint(40, 200))) + "</p>"
                         for _ in range(rng.randint(3, 30)))
    script = ""
    if kind == 1:  # builds a table
        script = "const t=document.createElement('table');for(let r=0;r<300;r++){const tr=t.insertRow();" \
                 "for(let c=0;c<8;c++)tr.insertCell().textContent=r*c;}document.body.appendChild(t);"
    elif kind in (2, 3):  # script-heavy: generated libraries, a bit of work at load
        libs = []
        for k in range(3 if kind == 2 else 6):
            lib = f"lib{i:02d}_{k}.js"
            with open(os.path.join(out, lib), "w") as f:
                for fn in range(400):
                    f.write(f"function f{k}_{fn}(a,b){{const x=[a,b,{fn}];return x.map(v=>v*{fn % 7 + 1}).reduce((p,q)=>p+q,0);}}\n")
                f.write(f"window.total{k}=0;for(let n=0;n<2000;n++)window.total{k}+=f{k}_{fn}(n,{k});\n")
            libs.append(lib)
        paragraphs += "".join(f"<script src='{lib}'></script>" for lib in libs)
    page(f"ordinary-{i:02d}.html", f"Ordinary page {i}", paragraphs, script)
    sites.append((f"bench/ordinary-{i:02d}.html", "clean"))
# 5 benign sockets: the two chat fixtures, three generated news tickers.
sites += [("chat.html", "clean"), ("corpus/jobs-chat.html", "clean")]
for i in range(3):
    page(f"ticker-{i}.html", f"Live ticker {i}", "<ul id=log></ul>",
         "const s=new WebSocket('ws://'+location.host+'/ws/echo');let n=0;"
         "s.onopen=()=>{const t=setInterval(()=>{s.send(JSON.stringify({kind:'ticker',n:n++}));if(n>5)clearInterval(t);},700);};"
         "s.onmessage=e=>{const li=document.createElement('li');li.textContent=e.data;document.getElementById('log').appendChild(li);};")
    sites.append((f"bench/ticker-{i}.html", "clean"))
# 5 compute-heavy benign pages and 10 miners, with the verdicts the corpus expects.
corpus = {}
with open(os.path.join(docroot, "corpus", "expected.tsv")) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            path, verdict = line.rstrip("\n").split("\t")
            corpus[path] = verdict
for path in ["corpus/js-benchmark.html", "corpus/wasm-image-filter.html", "busy-main.html",
             "corpus/pow-captcha.html", "corpus/password-hashing.html"]:
    sites.append((path, corpus[path]))
# The first ten of the corpus's miners (it has grown since; later ones stay out so figures compare).
sites += [(path, verdict) for path, verdict in corpus.items() if verdict == "cryptojacking"][:10]
assert len(sites) == 100, len(sites)
rng.shuffle(sites)
for path, verdict in sites:
    print(f"http://site.test:{port}/{path}\t{verdict}")
