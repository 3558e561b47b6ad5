// Rejoin: a fenced old primary taken back as a replica, or as a master-master pair's standby.
export * from './decide';
