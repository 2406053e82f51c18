// Two languages, Simplified Chinese first. Strings live here so pages carry only keys
// (data-i18n="key"), and switching language re-renders without a reload.
const KEY = 'baiying.lang';
const listeners = new Set();

const zh = {
  brand: '一呼百应', brand_sub: '群防群治调度', nav_desk: '值班台', nav_dashboard: '态势看板',
  nav_stats: '统计分析', lang_switch: 'English', sign_out: '退出', signed_in_as: '当前身份',
  nav_roster: '队伍', nav_cases: '案例库', nav_hotspots: '热点', nav_report: '月报', nav_campaigns: '宣传推送',
  role_duty_desk: '值班员', role_supervisor: '督导', role_admin: '管理员', role_volunteer: '志愿者',
  all_districts: '全部辖区',
  signin_title: '登录', signin_help: '粘贴令牌（JWT）。在服务器上运行：',
  signin_token: '令牌', signin_submit: '登录', signin_bad: '这不是有效的令牌',
  signin_expired: '令牌已过期，请重新生成',
  signin_provider: '统一身份认证登录', signin_provider_help: '请使用单位统一身份认证账号登录。',
  signed_out: '你已安全退出。再次进入需要重新输入密码。', signin_failed: '登录未完成：', signin_switch: '换个账号',
  // map
  map_city: '全市', map_zoom_in: '放大', map_zoom_out: '缩小', map_click_hint: '点击地图选择事发地点',
  map_legend: '图例', map_approx: '辖区范围为示意（按县城距离划分）',
  // desk
  desk_title: '发起警情', desk_where: '事发地点', lat: '纬度', lon: '经度', address: '详细地址',
  address_ph: '如：章贡区红旗大道 18 号', title: '标题', title_ph: '如：老旧小区疑似入室盗窃',
  description: '情况说明', description_ph: '到场人员需要知道的情况',
  category: '类别', kind: '类型', kind_callout: '召集（需回复）', kind_advisory: '以案说防（通知）',
  district: '辖区', radius: '初始半径', need: '所需人员', need_total: '按总数', need_mix: '按队伍类型',
  need_total_n: '总人数', skills: '技能要求（其中几人具备）', submit_raise: '发起召集',
  submitting: '正在发起…', raised_ok: '已发起，正在召集', recent: '本辖区近期警情',
  desk_none: '暂无警情', cancel: '撤销', close: '结束', confirm_cancel: '确定撤销此警情？所有人员将收到解除通知。',
  confirm_close: '确定结束此警情？', open_dashboard: '在看板中查看', need_at_least_one: '请至少需要 1 人',
  pick_location: '请先在地图上点选或输入坐标', area: '片区', area_ph: '如：东外街道、厚德路社区',
  err_required: '此项必填', err_too_long: '内容过长', err_range: '数值超出允许范围', err_number: '请输入数字',
  err_pattern: '格式不正确', err_choice: '请从列表中选择', err_invalid: '此项有误', err_out_of_area: '地点不在本台辖区范围内',
  err_fix_fields: '请修正标红的项目后再发起', gaz_none: '没有匹配的标准地址', desk_live: '本台进行中的警情',
  desk_role_view: '你以督导身份查看：发起警情由值班员操作。',
  ns_heading: '下一步', ns_another_round: '立即再召集一轮', ns_widen: '扩大半径', ns_change_need: '调整所需人数',
  ns_extend: '延长等待', ns_phoned_reply: '登记电话回复', ns_advisory: '改为以案说防通知', ns_confirm: '确定', ns_back: '取消',
  ns_minutes: '{n} 分钟', ns_who: '志愿者', ns_reply: '回复', ns_reply_accept: '接受', ns_reply_decline: '拒绝',
  ns_reply_arrived: '已到场', ns_note_ph: '备注（如：电话中说 10 分钟到）', ns_done: '已执行：{step}',
  ev_next_step: '{actor}：{step}',
  // team types and skills
  team_patrol: '治安巡防队', team_community_security: '社区保安队', team_security_volunteer: '治安志愿者',
  team_building_watch: '看楼护院队', team_information_officer: '治安信息员', team_unit_guard: '内部单位护厂队',
  skill_first_aid: '急救', skill_driver: '驾驶', skill_mediation: '调解',
  // statuses
  st_mobilising: '召集中', st_open: '召集中', st_raised: '已发起', st_staffed: '已满员', st_unmet: '未满员',
  st_cancelled: '已撤销', st_closed: '已结束', st_advising: '通知中', st_sent: '已发送',
  cs_pending: '待发送', cs_sent: '已发送', cs_delivered: '已送达', cs_accepted: '已接受',
  cs_declined: '已拒绝', cs_no_answer: '未应答', cs_stood_down: '已解除', cs_arrived: '已到场',
  cs_failed: '发送失败',
  // dashboard
  dash_title: '辖区警情', filter_all: '全部', filter_live: '进行中', filter_done: '已完结',
  col_status: '状态', col_title: '警情', col_district: '辖区', col_progress: '到位进度',
  col_round: '轮次', col_raised: '发起时间', col_ttfa: '首个接受', dash_none: '当前辖区没有警情',
  back_to_list: '返回列表', progress: '到位进度', round: '轮次', radius_now: '当前半径',
  ttfa: '首个接受用时', tts: '满员用时', responders: '响应人员', timeline: '事件时间线',
  distance: '距离', state: '状态', team: '队伍', no_responders: '尚未召集人员',
  needed: '需要', accepted: '已接受', live: '实时', reconnecting: '重连中', offline: '未连接',
  unmet_flag: '召集轮次已用完，仍未满员', ev_raised: '发起警情', ev_round: '第 {n} 轮召集 {count} 人',
  ev_callout: '{who}：{state}', ev_cancel: '{actor} 撤销警情 {reason}', ev_close: '{actor} 结束警情 {reason}',
  ev_manual: '{actor} 人工登记：{state}', ev_audit: '{actor}：{action}', missing: '还缺', anyone: '任意人员',
  desk_role_note: '只有值班员可以发起警情；你可以在此查看和撤销。', need_people: '共需 {n} 人',
  created_by: '发起人', description_l: '情况说明', address_l: '详细地址', area_l: '片区',
  advice: '防范提示内容', advice_ph: '以案说防：案情简述与防范建议', called: '已召集', ev_status: '状态变为：{s}', incident: '警情', created: '发起',
  advisory_delivered: '已送达', map_incident: '事发地点', map_radius: '召集半径',
  // stats
  stats_title: '统计分析', accept_rate: '接受率', median_tta: '接受用时中位数',
  by_team: '按队伍类型', by_district: '按辖区', stats_none: '暂无数据', callouts_n: '召集 {n} 次',
  seconds: '秒', minutes: '分', hours: '小时',
  stats_incidents: '召集警情', stats_complete: '满员警情', stats_filled: '到位 / 所需人数',
  cov_outstanding: '另有 {n} 人尚未答复', cov_extra: '{n} 名已接受者不符合所缺要求',
  err_network: '无法连接调度服务', err_401: '未登录或令牌无效', err_403: '无权限',
  err_404: '未找到', err_422: '输入有误', err_409: '冲突', err_5xx: '服务器错误',
};

const en = {
  brand: 'Baiying', brand_sub: 'Community safety dispatch', nav_desk: 'Duty desk', nav_dashboard: 'Dashboard',
  nav_stats: 'Statistics', lang_switch: '中文', sign_out: 'Sign out', signed_in_as: 'Signed in as',
  nav_roster: 'Roster', nav_cases: 'Cases', nav_hotspots: 'Hotspots', nav_report: 'Monthly report', nav_campaigns: 'Campaigns',
  role_duty_desk: 'Duty desk', role_supervisor: 'Supervisor', role_admin: 'Admin', role_volunteer: 'Volunteer',
  all_districts: 'all districts',
  signin_title: 'Sign in', signin_help: 'Paste a token (JWT). On the server run:',
  signin_token: 'Token', signin_submit: 'Sign in', signin_bad: 'That is not a valid token',
  signin_expired: 'The token has expired; mint a new one',
  signin_provider: 'Sign in with your organisation', signin_provider_help: 'Sign in with your organisation account.',
  signed_out: 'You have signed out. Coming back asks for your password again.', signin_failed: 'Sign-in not completed: ', signin_switch: 'Use another account',
  map_city: 'Whole city', map_zoom_in: 'Zoom in', map_zoom_out: 'Zoom out',
  map_click_hint: 'Click the map to set the location', map_legend: 'Legend',
  map_approx: 'District areas are approximate (nearest county seat)',
  desk_title: 'Raise an incident', desk_where: 'Location', lat: 'Latitude', lon: 'Longitude',
  address: 'Exact address', address_ph: 'e.g. 18 Hongqi Avenue, Zhanggong', title: 'Title',
  title_ph: 'e.g. Suspected burglary in an old estate', description: 'Description',
  description_ph: 'What responders need to know', category: 'Category', kind: 'Kind',
  kind_callout: 'Call-out (needs replies)', kind_advisory: 'Prevention notice (advisory)',
  district: 'District', radius: 'Initial radius', need: 'People needed', need_total: 'Total',
  need_mix: 'By team type', need_total_n: 'People', skills: 'Skills (how many of them)',
  submit_raise: 'Raise', submitting: 'Raising…', raised_ok: 'Raised — mobilising',
  recent: 'Recent incidents in your districts', desk_none: 'No incidents yet', cancel: 'Cancel',
  close: 'Close', confirm_cancel: 'Cancel this incident? Everyone called will be stood down.',
  confirm_close: 'Close this incident?', open_dashboard: 'Open in dashboard',
  need_at_least_one: 'Ask for at least one person', pick_location: 'Click the map or type coordinates first',
  area: 'Area', area_ph: 'e.g. Dongwai subdistrict', err_required: 'Required', err_too_long: 'Too long',
  err_range: 'Out of the allowed range', err_number: 'Enter a number', err_pattern: 'Not in the right form',
  err_choice: 'Pick one from the list', err_invalid: 'Not valid', err_out_of_area: 'Outside the districts this desk serves',
  err_fix_fields: 'Fix the fields marked in red, then raise', gaz_none: 'No standard address matches',
  desk_live: 'Live incidents at this desk',
  ns_heading: 'Next step', ns_another_round: 'Another round now', ns_widen: 'Widen the radius', ns_change_need: 'Change the need',
  ns_extend: 'Extend the deadline', ns_phoned_reply: 'Record a phoned-in reply', ns_advisory: 'Turn into an advisory',
  ns_confirm: 'Confirm', ns_back: 'Back', ns_minutes: '{n} min', ns_who: 'Volunteer', ns_reply: 'Reply',
  ns_reply_accept: 'Accept', ns_reply_decline: 'Decline', ns_reply_arrived: 'Arrived',
  ns_note_ph: 'Note (e.g. said on the phone: there in 10 min)', ns_done: 'Done: {step}', ev_next_step: '{actor}: {step}', desk_role_view: 'You are viewing as a supervisor: the duty desk raises incidents.',
  team_patrol: 'Patrol', team_community_security: 'Community security',
  team_security_volunteer: 'Security volunteers', team_building_watch: 'Building watch',
  team_information_officer: 'Information officers', team_unit_guard: 'Unit guards',
  skill_first_aid: 'First aid', skill_driver: 'Driver', skill_mediation: 'Mediation',
  st_mobilising: 'Mobilising', st_open: 'Mobilising', st_raised: 'Raised', st_staffed: 'Staffed',
  st_unmet: 'Unmet', st_cancelled: 'Cancelled', st_closed: 'Closed', st_advising: 'Notifying',
  st_sent: 'Sent', cs_pending: 'Pending', cs_sent: 'Sent', cs_delivered: 'Delivered',
  cs_accepted: 'Accepted', cs_declined: 'Declined', cs_no_answer: 'No answer',
  cs_stood_down: 'Stood down', cs_arrived: 'Arrived', cs_failed: 'Failed',
  dash_title: 'Incidents in your districts', filter_all: 'All', filter_live: 'Live', filter_done: 'Finished',
  col_status: 'Status', col_title: 'Incident', col_district: 'District', col_progress: 'Progress',
  col_round: 'Round', col_raised: 'Raised', col_ttfa: 'First accept', dash_none: 'No incidents in your districts',
  back_to_list: 'Back to list', progress: 'Progress', round: 'Round', radius_now: 'Radius',
  ttfa: 'Time to first accept', tts: 'Time to staffed', responders: 'Responders', timeline: 'Timeline',
  distance: 'Distance', state: 'State', team: 'Team', no_responders: 'Nobody called yet',
  needed: 'needed', accepted: 'accepted', live: 'Live', reconnecting: 'Reconnecting', offline: 'Offline',
  unmet_flag: 'All rounds used and still short of people', ev_raised: 'Incident raised',
  ev_round: 'Round {n}: {count} called', ev_callout: '{who}: {state}',
  ev_cancel: '{actor} cancelled {reason}', ev_close: '{actor} closed {reason}',
  ev_manual: '{actor} recorded a reply: {state}', ev_audit: '{actor}: {action}', missing: 'Still missing',
  anyone: 'anyone', desk_role_note: 'Only the duty desk raises incidents; you can watch and cancel here.',
  need_people: '{n} people in all', created_by: 'Raised by', description_l: 'Description',
  address_l: 'Address', area_l: 'Area', advice: 'Prevention advice', advice_ph: 'The case in brief and how to guard against it',
  called: 'called', ev_status: 'Status: {s}',
  incident: 'Incident', created: 'Raised', advisory_delivered: 'Delivered', map_incident: 'Incident',
  map_radius: 'Call-out radius',
  stats_title: 'Statistics', accept_rate: 'Acceptance rate', median_tta: 'Median time to accept',
  by_team: 'By team type', by_district: 'By district', stats_none: 'No data yet', callouts_n: '{n} call-outs',
  seconds: 's', minutes: 'min', hours: 'h',
  stats_incidents: 'Call-outs', stats_complete: 'Fully staffed', stats_filled: 'People in place / needed',
  cov_outstanding: '{n} more yet to answer', cov_extra: '{n} accepted who fit nothing still missing',
  err_network: 'Cannot reach the dispatcher', err_401: 'Not signed in or token invalid',
  err_403: 'Not allowed', err_404: 'Not found', err_422: 'Invalid input', err_409: 'Conflict',
  err_5xx: 'Server error',
};

const tables = { zh, en };

/** A page's own strings ({zh: {...}, en: {...}}), kept beside its module and merged here. */
export function addStrings(more) {
  Object.assign(zh, more.zh);
  Object.assign(en, more.en);
}

/** More strings as { key: [zh, en] }: each translation beside its source. */
export function addPairs(pairs) {
  for (const [key, [zhText, enText]] of Object.entries(pairs)) {
    zh[key] = zhText;
    en[key] = enText;
  }
}

export function lang() {
  const stored = localStorage.getItem(KEY);
  return stored === 'en' ? 'en' : 'zh';
}

export function setLang(value) {
  localStorage.setItem(KEY, value);
  document.documentElement.lang = value === 'en' ? 'en' : 'zh-CN';
  applyI18n(document);
  for (const fn of listeners) fn(value);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Translate `key`, filling {name} placeholders from `vars`; unknown keys show as themselves. */
export function t(key, vars = {}) {
  const text = tables[lang()][key] ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Fill every [data-i18n] (text), [data-i18n-ph] (placeholder) and [data-i18n-title] below root. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
