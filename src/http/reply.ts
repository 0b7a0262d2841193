import type { FastifyReply } from 'fastify';

/** An HTML page that must not be cached (every page carries tokens or personal data). */
export function sendHtml(reply: FastifyReply, html: string | Promise<string>): FastifyReply | Promise<FastifyReply> {
  reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
  return reply.send(html);
}
