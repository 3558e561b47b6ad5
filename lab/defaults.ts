// The lab's fixed names and numbers: option defaults, the accounts it creates, the SQL port.
export const DEFAULTS = { hosts: 3, prefix: 'so', subnet: '10.99.0.0/24', basePort: 13306 } as const;
export const ACCOUNT_NAMES = {
  admin: 'successover',
  replication: 'repl',
  app: 'app',
  database: 'app',
} as const;
export const SQL_PORT = 3306;
