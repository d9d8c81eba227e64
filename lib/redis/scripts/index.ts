import { ACK, ACK_LANDED, ACK_MANY } from './ack.lua.js';
import { CLAIM } from './claim.lua.js';
import { INSERT } from './insert.lua.js';
import { PARK, PARK_BAND, PARK_DONE, PARK_OWED, PARK_PLAN } from './park.lua.js';
import { RESIGN_LEASE, TAKE_LEASE } from './lease.lua.js';
import { CANCEL, HEARTBEAT, PROGRESS, RESCUE, UNCLAIM } from './lifecycle.lua.js';
import { DELETE, GET, LIST, MAKE_DUE, NEXT_RUN, PRUNE, QUEUE_COUNTS, RELEASE_HELD } from './queries.lua.js';
import { BUCKET_STATUS, CLAIM_LIMITED } from './rate-limit.lua.js';
import { DEAD_INDEXED, INDEX_DEAD, LIST_DEAD, PRUNE_DEAD, RESURRECT, RESURRECT_DEAD, SETTLE_ALERT, TAKE_ALERTS } from './dead-letters.lua.js';
import { CREATE_RUN, DELETE_RUNS, LIST_RUNS, SAVE_RUN } from './runs.lua.js';
import { CAS_FIELD, DELETE_SCHEDULE, QUEUE_STATES, SAVE_SCHEDULE, SCHEDULE_STATES, SET_QUEUE_STATE, SET_SCHEDULE_STATE, UNLOCK } from './states.lua.js';

/**
 * Every script of the Redis store by command name; each takes one key, the
 * store's base (`{prefix}:`). ioredis sends them with EVALSHA (EVAL once
 * when the server does not know the script yet).
 * @internal
 */
export const SCRIPTS = {
  schedInsert: INSERT,
  schedClaim: CLAIM,
  schedClaimLimited: CLAIM_LIMITED,
  schedBucket: BUCKET_STATUS,
  schedAck: ACK,
  schedAckMany: ACK_MANY,
  schedAckLanded: ACK_LANDED,
  schedUnclaim: UNCLAIM,
  schedHeartbeat: HEARTBEAT,
  schedProgress: PROGRESS,
  schedCancel: CANCEL,
  schedRescue: RESCUE,
  schedResurrect: RESURRECT,
  schedResurrectDead: RESURRECT_DEAD,
  schedListDead: LIST_DEAD,
  schedPruneDead: PRUNE_DEAD,
  schedDeadIndexed: DEAD_INDEXED,
  schedIndexDead: INDEX_DEAD,
  schedTakeAlerts: TAKE_ALERTS,
  schedSettleAlert: SETTLE_ALERT,
  schedGet: GET,
  schedDelete: DELETE,
  schedPrune: PRUNE,
  schedList: LIST,
  schedQueueCounts: QUEUE_COUNTS,
  schedNextRun: NEXT_RUN,
  schedReleaseHeld: RELEASE_HELD,
  schedMakeDue: MAKE_DUE,
  schedSaveSchedule: SAVE_SCHEDULE,
  schedDeleteSchedule: DELETE_SCHEDULE,
  schedSetScheduleState: SET_SCHEDULE_STATE,
  schedScheduleStates: SCHEDULE_STATES,
  schedPark: PARK,
  schedParkBand: PARK_BAND,
  schedParkPlan: PARK_PLAN,
  schedParkOwed: PARK_OWED,
  schedParkDone: PARK_DONE,
  schedSetQueueState: SET_QUEUE_STATE,
  schedQueueStates: QUEUE_STATES,
  schedCas: CAS_FIELD,
  schedUnlock: UNLOCK,
  schedCreateRun: CREATE_RUN,
  schedSaveRun: SAVE_RUN,
  schedListRuns: LIST_RUNS,
  schedDeleteRuns: DELETE_RUNS,
  schedTakeLease: TAKE_LEASE,
  schedResignLease: RESIGN_LEASE,
} as const;

/**
 * A script's name.
 * @internal
 */
export type ScriptName = keyof typeof SCRIPTS;
