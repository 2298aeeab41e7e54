import { createSim, runSim } from './sim.mjs'
import { EventLog, Recorder } from './recorder.mjs'
for (const seed of [1,2,3,4,5,6,7,8,9,10]) {
const sim = createSim({ seed })
const log = new EventLog()
const rec = new Recorder({ log, now: () => sim.clock.now() })
const tip = await runSim(sim, rec)
const s = log.events.at(-1)
console.log(seed, 'events', log.events.length, 'tip', tip.height, 'reorgs', s.reorgs, log.events.filter(e=>e.type==='reorg').map(e=>e.disconnected.length).join(','))
}
