import type { Children } from '@kitajs/html';

const STYLE = `
:root{color-scheme:light;--fg:#1d2430;--muted:#5b6676;--line:#d9dee6;--accent:#1f5fbf;--bad:#a42323;--bg:#f6f8fb}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:760px;margin:0 auto;padding:24px}
h1{font-size:1.4rem;margin:0 0 12px}h2{font-size:1.1rem;margin:20px 0 8px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:20px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.error h1{color:var(--bad)}code{background:#eef1f5;padding:1px 5px;border-radius:4px;font-size:.92em}
.hint{border-left:3px solid var(--accent);padding:6px 12px;background:#f0f5fd;margin:16px 0}
.muted{color:var(--muted);font-size:.9em}
body.player{height:100vh;display:flex;flex-direction:column;overflow:hidden;background:#fff}
.player-bar{display:flex;gap:12px;align-items:center;padding:6px 12px;border-bottom:1px solid var(--line);background:var(--bg)}
.player-title{flex:0 1 auto;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.player-nav{margin-left:auto;display:flex;gap:6px}
.player-body{flex:1;display:flex;min-height:0}
.player-body iframe{flex:1;border:0;width:100%;height:100%}
.toc{width:260px;overflow:auto;border-right:1px solid var(--line);background:var(--bg)}
.toc ol{list-style:none;margin:0;padding:8px}
.toc-item{display:block;width:100%;text-align:left;border:0;background:none;padding:5px 6px;border-radius:4px;cursor:pointer;font:inherit}
.toc-item[aria-current=true]{background:#dde8f8;font-weight:600}
.toc-item::before{content:"○ ";color:var(--muted)}
.toc-item[data-status=incomplete]::before{content:"◐ "}
.toc-item[data-status=completed]::before,.toc-item[data-status=passed]::before{content:"● ";color:#1d7a3a}
.toc-item[data-status=failed]::before{content:"● ";color:var(--bad)}
button{font:inherit}
.picker-search{display:flex;gap:8px;margin:12px 0}.picker-search input{flex:1;padding:6px 8px;font:inherit}
.picker-list{list-style:none;padding:0;margin:0}.picker-list li{border-top:1px solid var(--line);padding:8px 0}
.picker-list label{display:flex;gap:10px;align-items:flex-start;cursor:pointer}.picker-item{display:flex;flex-direction:column}
.picker-actions{display:flex;gap:8px;margin-top:16px;align-items:center}
main:has(.progress){max-width:1100px}.progress-table{width:100%;border-collapse:collapse;margin-top:12px;font-size:.95em}
.progress-table th,.progress-table td{border-top:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
.progress-table th a{color:inherit}
body{overflow-wrap:break-word}
[hidden]{display:none!important}
h1,h2,h3,strong,code,.muted{overflow-wrap:anywhere}
td.text,th.text{overflow-wrap:anywhere;min-width:12ch}
td.nowrap,th.nowrap,.nowrap{white-space:nowrap}
.picker-item{min-width:0;overflow-wrap:anywhere}
button,.button{display:inline-block;font:inherit;line-height:1.4;background:#fff;color:var(--fg);border:1px solid var(--line);border-radius:4px;padding:5px 12px;cursor:pointer;text-decoration:none;vertical-align:middle}
button:hover,.button:hover{background:#eef2f7;text-decoration:none}
button.primary,.button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
button.primary:hover,.button.primary:hover{background:#1a52a6}
button:disabled,button:disabled:hover{opacity:.55;cursor:not-allowed;background:#fff}
button.primary:disabled{background:var(--accent)}
.site-nav{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center;margin:0 0 12px}
.end-page{flex:1;display:flex;align-items:flex-start;justify-content:center;padding:40px 24px;overflow:auto}
.end-page .card{max-width:560px}.end-page h1:focus{outline:none}
.player-score{white-space:nowrap}
.preview-banner{margin:0;background:#fdf3d8;color:#6b4e00;padding:4px 12px;border-bottom:1px solid var(--line);font-size:.9em}
.way-back{margin-top:16px}
.summary{margin:8px 0}
.card+.card{margin-top:16px}.card>h2:first-child{margin-top:0}
`;

export function Layout(props: { title: string; bodyClass?: string; referrer?: string; head?: Children; children?: Children }): JSX.Element {
  return (
    <>
      {'<!doctype html>'}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content={props.referrer ?? 'no-referrer'} />
          <title safe>{`${props.title} · Courseport`}</title>
          <style>{STYLE}</style>
          {props.head ?? ''}
        </head>
        {props.bodyClass ? (
          <body class={props.bodyClass}>{props.children}</body>
        ) : (
          <body>
            <main>{props.children}</main>
          </body>
        )}
      </html>
    </>
  );
}
