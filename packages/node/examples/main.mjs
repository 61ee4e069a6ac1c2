// Run from packages/node after `pnpm build`: node examples/main.mjs
import { defineNode, remoteNodeOf, spawnNode } from '@switchyard/node';

// 1. In this thread: defineNode, the seed's example.
const math = defineNode((node) => {
  const [w] = node.workers(1);
  return { add: w.function((a, b) => a + b) };
});
console.log('local add:', await math.add(10, 5)); // 15, ran on w
math.kill();

// 2. In a worker thread, then in a child process: the same module, spawned.
for (const topology of ['thread', 'process']) {
  const node = await spawnNode(new URL('./mailer.node.mjs', import.meta.url), { topology });
  const sent = await Promise.all([
    node.mailer.send('ada@example.com', 'hello'),
    node.mailer.send('bob@example.com', 'hi'),
  ]);
  console.log(
    `${topology}: sent ${sent.map((mail) => `#${mail.id} to ${mail.to}`).join(', ')}; count ${await node.mailer.count()}; ran in ${await node.mailer.where()}`,
  );
  try {
    await node.mailer.send('ada@example.com', () => 'a function cannot cross');
  } catch (error) {
    console.log(`${topology}: ${error.code}`); // ERR_INVALID_EVENT, rejected before sending
  }
  await node.close();
  console.log(`${topology}: ${remoteNodeOf(node).state}`);
}
