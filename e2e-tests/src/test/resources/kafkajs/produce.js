// A non-Java client of the secured broker: sends one image event to digits.images with KafkaJS, over TLS
// (trusting the local CA) as a SCRAM-SHA-512 user.
// usage: KAFKA_PASSWORD=... node produce.js <bootstrap> <ca.pem> <user> <key> <event JSON>
const fs = require('fs');
const { Kafka, logLevel, Partitioners } = require('kafkajs');

const [bootstrap, ca, username, key, event] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'kafkajs-client',
  brokers: [bootstrap],
  ssl: { ca: [fs.readFileSync(ca, 'utf8')] },
  sasl: { mechanism: 'scram-sha-512', username, password: process.env.KAFKA_PASSWORD },
  logLevel: logLevel.WARN,
});

(async () => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'digits.images', acks: -1, messages: [{ key, value: event }] });
  await producer.disconnect();
  console.log('sent ' + key);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
