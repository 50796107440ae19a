// Reference /message server for bench/listen.sh, in the style of the
// official custom-channel example: Express, express.json(), a Bearer check
// middleware, and res.send({mId}). Written for ccx; not copied.
'use strict';
const crypto = require('crypto');
const express = require('express');

const token = process.env.CCX_API_TOKEN || '';
const port = Number(process.env.PORT || 3031);
const app = express();
app.use(express.json({ limit: '1mb' }));

app.use((req, res, next) => {
  const auth = req.headers.authorization || '';
  if (auth.slice(0, 7).toLowerCase() !== 'bearer ' || auth.slice(7) !== token) {
    return res.status(401).send({ error: { message: 'unauthorized' } });
  }
  next();
});

app.post('/message', (req, res) => {
  const { channelId, contactId, message } = req.body || {};
  if (!channelId || !contactId || !message || !message.type) {
    return res.status(400).send({ error: { message: 'invalid body' } });
  }
  res.send({ mId: crypto.randomUUID() });
});

app.get('/healthz', (req, res) => res.send({ ok: true }));

app.listen(port, '127.0.0.1');
