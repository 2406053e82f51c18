// Strings of the roster page (队伍与可达性), merged into the consoles' i18n tables.
import { addStrings } from './i18n.js';

addStrings({
  zh: {
    roster_title: '队伍与可达性',
    roster_help: '按辖区与队伍类型：队伍数、人数、当前在岗、短信/App 可达，以及联系不上的原因。点击一行查看名单。',
    roster_teams: '队伍', roster_people: '人数', roster_on_duty: '当前在岗', roster_sms: '短信可达',
    roster_app: 'App 可达', roster_opted_out: '已退订', roster_blocked: '运营商拦截', roster_invalid: '号码无效',
    roster_unreachable: '多次失败', roster_none: '暂无队伍', roster_total: '合计',
    roster_not_reachable: '短信联系不上', roster_drill: '{district} · {team}', roster_drill_state: '仅：{state}',
    roster_people_none: '此类人员为零', roster_name: '姓名', roster_team: '所属队伍', roster_phone: '手机（脱敏）',
    roster_status: '状态', roster_on_duty_col: '在岗', roster_sms_col: '短信', roster_app_col: 'App',
    roster_limit: '最多显示 500 人', roster_close: '收起', roster_district_all: '全部辖区', yes: '是', no: '否',
    roster_reveal: '查看完整号码', roster_reveal_reason: '查看事由（记入审计）', roster_reveal_go: '查看', roster_revealed: '已记录事由',
    reach_ok: '可达', reach_opted_out: '已退订', reach_carrier_blocked: '运营商拦截', reach_invalid: '号码无效',
    reach_unreachable: '多次失败', vstatus_active: '在册', vstatus_suspended: '暂停', vstatus_retired: '退出',
  },
  en: {
    roster_title: 'Roster and reachability',
    roster_help: 'Per district and team type: teams, people, on duty now, reachable by SMS or app, and why the rest are not. Click a row for the list.',
    roster_teams: 'Teams', roster_people: 'People', roster_on_duty: 'On duty now', roster_sms: 'Reachable by SMS',
    roster_app: 'Reachable by app', roster_opted_out: 'Opted out', roster_blocked: 'Carrier-blocked', roster_invalid: 'Invalid number',
    roster_unreachable: 'Repeated failures', roster_none: 'No teams', roster_total: 'Total',
    roster_not_reachable: 'Not reachable by SMS', roster_drill: '{district} · {team}', roster_drill_state: 'Only: {state}',
    roster_people_none: 'Nobody in this group', roster_name: 'Name', roster_team: 'Team', roster_phone: 'Mobile (masked)',
    roster_status: 'Status', roster_on_duty_col: 'On duty', roster_sms_col: 'SMS', roster_app_col: 'App',
    roster_limit: 'At most 500 people are listed', roster_close: 'Close', roster_district_all: 'All districts', yes: 'yes', no: 'no',
    roster_reveal: 'Show whole number', roster_reveal_reason: 'Reason (kept in the audit log)', roster_reveal_go: 'Show', roster_revealed: 'reason recorded',
    reach_ok: 'reachable', reach_opted_out: 'opted out', reach_carrier_blocked: 'carrier-blocked', reach_invalid: 'invalid number',
    reach_unreachable: 'repeated failures', vstatus_active: 'active', vstatus_suspended: 'suspended', vstatus_retired: 'retired',
  },
});
