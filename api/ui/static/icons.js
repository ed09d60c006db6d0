// Icons of the node kinds (16×16, stroked). Each kind also has its own word and shape: never colour alone.
export const ICONS = {
  trigger: '<path class="solid" d="M5 3.2l8 4.8-8 4.8z"/>',
  send_email: '<rect x="1.5" y="3.5" width="13" height="9" rx="1.5"/><path d="M2 4.5l6 4.5 6-4.5"/>',
  send_webhook: '<path d="M9.5 1.5L3.5 9h4l-1 5.5 6-7.5h-4z"/>',
  wait: '<circle cx="8" cy="8" r="6.2"/><path d="M8 4.5V8l2.5 1.8"/>',
  wait_for: '<path d="M4 1.8h8M4 14.2h8M5 2c0 3.5 6 3.8 6 6s-6 2.5-6 6M11 2c0 3.5-6 3.8-6 6s6 2.5 6 6"/>',
  branch: '<path d="M4 14V2M4 9c0-3 8-2 8-6M12 3l-2 .2M12 3l.3 2"/>',
  split: '<path d="M8 14.5V8.5M8 8.5L3 3M8 8.5l5-5.5M3 3v2.5M3 3h2.5M13 3v2.5M13 3h-2.5"/>',
  award: '<path d="M8 1.6l1.9 4 4.4.5-3.3 3 .9 4.4L8 11.3l-3.9 2.2.9-4.4-3.3-3 4.4-.5z"/>',
  set_stage: '<path d="M3.5 15V1.5M3.5 2h9l-2.2 3.2 2.2 3.3h-9"/>',
  exit: '<circle cx="8" cy="8" r="6.2"/><rect class="solid" x="5.4" y="5.4" width="5.2" height="5.2" rx=".6"/>',
  end: '<circle class="solid" cx="8" cy="8" r="4"/>',
};
