// The verification page: read a dropped or chosen bundle file, run InspectVerify.verifyBundle, show it.
(function () {
  "use strict";
  const result = document.getElementById("result");
  const drop = document.getElementById("drop");

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function show(name, report) {
    result.textContent = "";
    const head = document.createElement("h2");
    head.textContent = `${name}：` + (report.ok ? "复核一致" : "复核不一致");
    head.className = report.ok ? "ok" : "bad";
    result.appendChild(head);
    const table = document.createElement("table");
    const header = table.insertRow();
    ["项目", "结果", "说明"].forEach((t) => { const th = document.createElement("th"); th.textContent = t; header.appendChild(th); });
    if (report.frame) {
      const r = table.insertRow();
      cell(r, "名录SHA-256"); cell(r, report.frame.ok ? "一致" : "不一致", report.frame.ok ? "ok" : "bad");
      cell(r, report.frame.ok ? report.frame.computed : `公示 ${report.frame.stated}，计算 ${report.frame.computed}`);
    }
    if (report.seed) {
      const r = table.insertRow();
      cell(r, "本事项种子"); cell(r, report.seed.ok ? "一致" : "不一致", report.seed.ok ? "ok" : "bad");
      cell(r, report.seed.note || `由公开随机数 ${report.seed.public_seed} 计算：${report.seed.computed}`);
    }
    if (report.coordination) {
      const c = report.coordination, r = table.insertRow();
      cell(r, "协调抽样"); cell(r, c.ok ? "一致" : "不一致", c.ok ? "ok" : "bad");
      cell(r, `${c.mode === "positive" ? "正协调" : "负协调"}，协调组“${c.group}”，年度协调种子“${c.yearly_seed}”；`
              + (c.rule === "inspect-kit/prn/2" ? "随机数由年度协调种子和本次公开随机数计算" : "永久随机数（规则1）"));
    }
    for (const s of report.strata) {
      const r = table.insertRow();
      cell(r, `抽取层 ${s.stratum}（N=${s.N}，n=${s.n}）`); cell(r, s.ok ? "一致" : "不一致", s.ok ? "ok" : "bad");
      cell(r, s.ok ? "中选名单与票号最小的n个对象一致" : s.problems.join("；"));
    }
    if (report.drand) {
      const d = report.drand, r = table.insertRow();
      cell(r, `drand签名（${d.chain}链第${d.round}轮）`); cell(r, d.ok ? "一致" : "不一致", d.ok ? "ok" : "bad");
      cell(r, d.ok ? `BLS12-381签名有效，随机数 ${d.randomness} 即公开随机数` : d.problems.join("；"));
    }
    result.appendChild(table);
    if (!report.ok) {
      const ul = document.createElement("ul");
      report.problems.forEach((p) => { const li = document.createElement("li"); li.textContent = p; ul.appendChild(li); });
      result.appendChild(ul);
    }
  }

  async function check(file) {
    result.textContent = "正在复核……";
    result.className = "verify-result";
    try {
      const bundle = JSON.parse(await file.text());
      show(file.name, await InspectVerify.verifyBundle(bundle));
    } catch (e) {
      result.textContent = `无法读取 ${file.name}：${e.message || e}`;
      result.className = "verify-result bad";
    }
  }

  document.getElementById("file").addEventListener("change", (e) => { if (e.target.files[0]) check(e.target.files[0]); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files[0]) check(e.dataTransfer.files[0]);
  });
  const wanted = new URLSearchParams(location.search).get("bundle");  // served: ?bundle=URL on the same site
  if (wanted) {
    fetch(wanted)
      .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.blob(); })
      .then((b) => check(new File([b], wanted.split("/").slice(-2).join("-"))))
      .catch((e) => { result.textContent = `无法取得 ${wanted}：${e.message || e}`; result.className = "verify-result bad"; });
  }
})();
