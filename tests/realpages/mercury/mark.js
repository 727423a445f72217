// Marks the article text of Mercury Parser's fixture pages with Mercury itself: each page is
// parsed with its site's hand-written custom extractor (fallback off, as Mercury's own tests
// do), and the content it selects is written out. Run by fetch.py at set-up time.
//
// usage: node mark.js MERCURY_JS JOBS_JSON OUT_JSON
//   JOBS_JSON: [{"id": ..., "url": ..., "fixture": path}, ...]
//   OUT_JSON:  {id: {"title": ..., "content": html or null, "error": message or null}}
'use strict';

const fs = require('fs');

async function main() {
  const [mercuryJs, jobsFile, outFile] = process.argv.slice(2);
  const Mercury = require(mercuryJs);
  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  const out = {};
  for (const job of jobs) {
    try {
      const html = fs.readFileSync(job.fixture);
      const result = await Mercury.parse(job.url, html, { fallback: false });
      out[job.id] = {
        title: result.title || null,
        content: result.content || null,
        error: null,
      };
    } catch (err) {
      out[job.id] = { title: null, content: null, error: String(err) };
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
