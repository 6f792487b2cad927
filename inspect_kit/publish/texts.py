"""The fixed wording of the public notices, in one place: a change of wording touches no layout or
composition code. Templates use str.format fields, named after what they stand for.
"""

LEGAL_BASIS = (
    "根据《国务院办公厅关于推广随机抽查规范事中事后监管的通知》（国办发〔2015〕58号）和"
    "《国务院关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》（国发〔2019〕5号）"
)

DRAW_INTRO = (
    "{legal_basis}，{issuer}按照随机抽查事项清单，从检查对象名录库中随机抽取了{when}的抽查对象，"
    "涉及{matters}个抽查事项，共{total}家。"
)
DRAW_PROCEDURE = (
    "抽取所用的检查对象名录在确定随机种子之前已经冻结（冻结时间和SHA-256校验值见下文），随机种子取自公开来源，"
    "抽取按公开算法进行，结果只取决于种子、名录和各层抽取数。本公示附带全部抽取数据，任何人均可独立复核。"
    "现将抽查对象名单及抽取验证信息公示如下。"
)
DRAW_SEALED = "其中{matters}为保密抽查：本公示只公布其承诺信息和随机种子，抽取名单在检查完成后解密公示。"
DRAW_ONE_STEP = (
    "{matters}的名录冻结、种子确定和抽取在同一次操作中完成，确定种子之前未公布名录校验值，"
    "公众无法据此确认种子是在名录冻结之后选定的。"
)

ALGORITHM = (
    "抽取采用Rivest提出的“一致抽样”（consistent sampling）方法：对名录中的每个检查对象，以随机种子和该对象的"
    "{id_label}计算SHA-256散列值，得到一个票号；每个抽取层中票号最小的n个对象中选，票号越小排序越前。"
    "所用算法与开源软件包consistent-sampler逐字节一致（选举风险限制审计所用的同一工具）。"
    "名录校验值是名录规范文本（每行“识别码、制表符、抽取层、换行符”，按识别码排序，UTF-8编码）的SHA-256值。"
)

CHECK_FILES = (
    "本公示PDF文件内嵌{count}个抽取数据文件（在PDF阅读器的“附件”栏中可以查看和保存）：{names}。"
    "每个文件包含冻结名录的全部识别码及其抽取层、随机种子及其来源、各层对象数与抽取数的计算依据，"
    "以及全部中选对象及其票号。"
)
CHECK_TOOL = (
    "方法一：安装inspect-kit后运行命令“{command} {first}”，程序从文件重新计算名录校验值、"
    "各层抽取数、每个票号和中选名单，逐项报告是否一致。"
)
CHECK_BROWSER = (
    "方法二：用浏览器打开本机关网站公布的抽取结果复核页面（由“inspect publish verifier”生成，可离线使用），"
    "将抽取数据文件拖入页面，页面在浏览器中独立重新计算并逐层显示是否一致。"
)
CHECK_PACKAGE = (
    "方法三：使用独立的开源软件包consistent-sampler（pip install consistent-sampler=={version}）"
    "运行以下Python代码（其他文件替换文件名即可），输出的名录校验值和各层中选识别码应与本公示一致："
)

LOG_HEAD = (
    "透明日志：本公示所依据的全部记录已写入透明日志（哈希链），发布时日志头为第{n}条，哈希值{hash}。"
    "任何时候运行“inspect log verify --head {head}”即可核对此后记录未被删除或改写。"
    "所依据记录的日志条目（自其中最早一条至日志头的连续条目）作为附件嵌入本文件。"
)

RESULTS_INTRO = "按照“谁检查、谁录入、谁公开”的要求，现将{issuer}{when}“双随机、一公开”抽查结果公示如下。"
RESULTS_NOTE = "注：“发现问题”指检查结果属于发现问题类别的检查对象；“已整改”指责令改正的问题截至发布之日已整改完毕。"

ESTIMATE = (
    "检查对象是在各抽取层中随机抽取的，因此已检查对象中发现问题的比例可以推断该层全部对象的问题率。"
    "下表列出各层的问题率及其95%置信区间（Wilson区间；全层均已检查的不存在抽样误差），"
    "多层事项另列按对象数加权、含有限总体校正的分层估计。尚未录入结果的任务不计入。"
)

CLOSING = "特此公示。"
