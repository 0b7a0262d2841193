import type { LightMyRequestResponse } from 'fastify';

export interface PlayerConfig {
  family: string;
  api: string;
  contentBase: string;
  renewEveryMs: number;
  start: string;
  scos: { id: string; title: string; launchUrl: string }[];
}

/** The player's configuration, read from the JSON block of its page. */
export function playerConfig(res: LightMyRequestResponse): PlayerConfig {
  const json = /<script type="application\/json" id="player-config">(.*?)<\/script>/s.exec(res.body)?.[1];
  if (!json) throw new Error(`no player in: ${res.body.slice(0, 300)}`);
  return JSON.parse(json) as PlayerConfig;
}
